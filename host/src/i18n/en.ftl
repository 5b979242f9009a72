# Reveille's words in English. Every id here must also be in ru.ftl (a unit test checks).

## Time
duration-seconds = { $n } s
duration-minutes = { $n } min
duration-hours = { $n } h
duration-days = { $n } d
ago = { $duration } ago
never = never

## Navigation and account
nav-board = Board
nav-now = Now
nav-installations = Installations
nav-plugins = Plugins
nav-staff = Staff
language = Language
logout = Log out
login = Log in
login-title = Log in to Reveille
login-nobody-yet = Nobody can log in yet: open the setup link the service printed to its log when it started.
login-failed = Wrong name or password.
login-throttled = Too many failed attempts for this account; try again in 15 minutes.
field-name = Name
field-password = Password
field-role = Role
field-timezone = Time zone
field-chat = Telegram chat id
field-parent = Behind (parent)
setup-title = Welcome to Reveille
setup-intro = Create the first administrator. This link works once; afterwards, log in with the name and password you choose here.
setup-create = Create the administrator
setup-gone = This setup link is spent or not valid: an administrator exists already. Log in instead.

## Errors
error-title = Cannot show this
error-forbidden = You do not have access to this page.
error-not-found = There is nothing here.
error-csrf = The form is out of date or did not come from this site; reload the page and try again.
error-changed = It changed in the meantime; the page shows it as it is now.
error-snooze = Choose one of the offered snooze lengths.
back-to-board = Back to the board

## Board
board-title = Fleet
board-empty = No installation matches.
filter-any = any
filter-client-hint = client or installation
filter-problems = only problems
filter-apply = Apply
filter-reset = Reset
col-client = Client
col-installation = Installation
col-manager = Manager
col-report = Last report
col-update = Newest update
col-shell = Shell
col-dongle = Dongle
col-seats = Seats
col-alerts = Alerts
col-severity = Severity
col-plugin = Check
col-state = State
col-since = Since
col-what = What
col-down = Down
col-acknowledged-by = Taken by
col-snoozed-until = Snoozed until
col-resolution = Resolution
col-version = Version
col-calls = Calls
col-failures = Failures
col-last-error = Last error
critical = critical
warning = warning
info = info
dongle-present = present
dongle-lost = lost
dongle-expired = expired
dongle-blacklisted = blacklisted

## Now
now-title = Broken right now
now-all-well = Nothing is broken across the fleet.
incidents = Incidents
alerts = Alerts

## Alerts and incidents
alert = Alert
incident = Incident
pending = pending
firing = firing
acknowledged = acknowledged
snoozed = snoozed
rechecking = rechecking
resolved = resolved
acknowledge = Acknowledge
snooze-hours = Snooze { $n } h
timeline = Timeline
updates = Updates
members = Installations
members-hidden = …and { $n } more of other managers' clients.
down = down
back = back
event-pending = held back (damping)
event-fired = fired
event-changed = changed
event-resolved = resolved
event-acknowledged = acknowledged
event-snoozed = snoozed
event-snooze-ended = snooze ended
event-ack-expired = acknowledgement expired
event-escalated = escalated
event-held = held for the morning digest
event-digested = shown in the digest
event-unroutable = could not be delivered to someone
event-silenced = silenced by maintenance
event-announced = announced
event-waiting = waiting for others with the same cause
event-joined = joined an incident
event-rechecking = rechecking
event-update = update
event-postmortem = post-mortem written
event-notified = notified
event-delivery-delayed = delivery delayed
event-delivery-failed = delivery failed
event-refused = refused

## Client
client-history = Last 30 days
client-silence = Longest silence per day
client-no-alerts = No open alerts.
client-policy = Policy
client-default-policy = No policy of its own: the defaults apply.
client-settings = Check settings
client-default-settings = No settings of its own: the checks' defaults apply.

## Admin
create = Create
delete = Delete
enable = Enable
disable = Disable
upload = Upload
installation-new = New installation
installation-deleted = Installation { $name } deleted; { $n } open alert(s) resolved.
rotate-token = New token
confirm-rotate = Issue a new token for { $name }? The old one stops working at once.
confirm-delete = Delete { $name }? This cannot be undone.
token-once = The ingest token of { $name }, shown this once:
token-snippet = Paste this into the agent's configuration on the installation:
plugin-upload = Upload a check
plugin-file = Component (.wasm)
plugin-name-hint = from the file name
plugin-override = in place of the built-in
plugin-no-file = Choose a .wasm file to upload.
plugin-installed = { $name } { $what } is serving.
plugin-done = { $name }: { $what } done.
plugin-active = serving
plugin-disabled = switched off
plugin-failed = failed to load
staff-new = New account
staff-manager-hint = for a manager: the name installations carry
staff-created = Account { $name } created.
staff-exists = An account named { $name } exists already.
staff-not-yourself = You cannot delete your own account.
admin = administrator
manager = manager
viewer = viewer
