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

## Telegram: alert messages, replies, digests, incident cards
tg-critical = CRITICAL
tg-warning = WARNING
tg-info = INFO
tg-resolved-head = ✅ RESOLVED · was { $severity }
tg-firing = Firing: nobody has taken it yet
tg-acknowledged = ✋ Acknowledged by { $who } at { $when }
tg-ack-until = , until { $when }
tg-snoozed = 💤 Snoozed by { $who } until { $when }
tg-resolved = Resolved at { $when } after { $duration } ({ $why })
tg-someone = someone
tg-cleared = cleared
tg-since = Since { $when } ({ $zone })
tg-escalated = ⏫ Escalated to { $who } at { $when }
tg-resolved-after = ✅ Resolved after { $duration }
tg-now = Now
tg-reminder-escalated = ⏫ Escalated, still nobody on it
tg-reminder = ⏰ Still firing, nobody has it now
tg-digest-head = 🌅 While you were away: { $n } alert(s)
tg-digest-firing = Still firing:
tg-digest-acknowledged = Acknowledged:
tg-digest-resolved = Fired and resolved:
tg-folded-head = 🔔 { $n } new alerts at once
tg-folded-hint = Too many for a message each; /alerts lists them with their state.
tg-line-since = since { $when }
tg-line-acknowledged = acknowledged by { $who } at { $when }
tg-line-escalated = escalated to { $who } at { $when }
incident-parent = { $parent } is failing
incident-check = { $plugin } on { $n } installations
tg-incident-resolved-head = ✅ RESOLVED · incident #{ $id }: { $what }
tg-incident-head = INCIDENT #{ $id }: { $what }
tg-incident-count = { $total } installation(s) of { $clients } client(s) · { $back } of { $total } back
tg-incident-parent-cause = Not the clients' doing: they sit behind { $parent }.
tg-incident-rechecking = 🔎 The cause is gone; checking the { $n } still down again
tg-incident-resolved = Resolved at { $when } after { $duration }
tg-incident-alone = Still down, now alerts of their own: { $list }
tg-postmortem = Post-mortem: { $link }
tg-affected = Affected:
tg-and-more = { $named } and { $n } more
tg-more-clients = … and { $n } more client(s): /api/v1/incidents/{ $id } lists them all
tg-incident-resolved-reply = ✅ Incident #{ $id } resolved after { $duration }
tg-incident-back = { $back } of { $total } back
tg-incident-still-down = { $n } still down: each is an alert of its own now.
tg-incident-reminder = ⏰ Incident #{ $id } still going, nobody has it now: { $down } of { $total } down
tg-lang-now = This chat reads Reveille in English. /lang ru or /lang it switches to Russian or Italian.
tg-lang-set = This chat now reads Reveille in English.
tg-lang-usage = Usage: /lang en, /lang ru or /lang it
tg-lang-not-allowed = Only someone authorized in this chat may change its language.
tg-button-unknown = This button is not one of mine.
tg-button-not-here = This alert is not known here.
tg-button-not-allowed = You are not allowed to act on alerts in this chat. Ask an administrator to authorize you.
tg-alert-taken = Acknowledged: it is yours.
tg-alert-snoozed = Snoozed. I will remind you if it still holds.
tg-incident-taken = Acknowledged: the incident and all its installations are yours.
tg-incident-snoozed = Snoozed, with all its installations.
tg-gone = This no longer exists.
tg-already-resolved = It has already resolved.
tg-already-taken = Already acknowledged by { $who }.
tg-nothing-to-do = Nothing to do: it is { $state }.
tg-status-usage = Usage: /status <client or installation>
tg-status-none = No installation matching “{ $query }” sends its alerts to this chat.
tg-status-many = { $n } installations match “{ $query }”:
tg-status-more = …and { $n } more.
tg-status-hint = Ask /status <installation id> for one installation's card.
tg-status-reported = reported { $duration } ago
tg-status-no-report = no report yet
tg-status-nothing-open = nothing open
tg-status-one-open = 1 alert open
tg-status-open = { $n } alerts open
tg-card-no-report = Last report: none received yet
tg-card-report = Last report: { $when } ({ $duration } ago, { $agent })
tg-card-update = Newest update: №{ $number }, { $when } ({ $duration } ago)
tg-card-no-update = Newest update: no bases in the last report
tg-card-shell = Shell: { $version }
tg-card-shell-low = Shell: { $version } (below the minimum { $minimum })
tg-card-shell-fine = Shell: { $version } (minimum { $minimum }: fine)
tg-card-no-shell = Shell: version not in the last report
tg-card-dongle = Dongle: { $state }
tg-card-dongle-error = Dongle: { $state } (error { $code })
tg-card-no-dongle = Dongle: no protection record in the last report
tg-card-seats = Seats: { $used } of { $limit } in use{ $refused ->
    [0] {""}
   *[other] , { $refused } refused
}
tg-card-no-seats = Seats: not in the last report
tg-card-no-alerts = Open alerts: none ✅
tg-card-alerts = Open alerts: { $n }
tg-state-since = { $state }, since { $when }
tg-alerts-none = No open alerts here ✅
tg-alerts-with-incidents = Open here: { $incidents } incident(s), { $n } alert(s)
tg-alerts-incident = Incident #{ $id }: { $what }, { $down } of { $total } still down ({ $state })
tg-alerts-more = …and more: see the board or ask /status for one client.
tg-oncall-none = No on-call schedule is set up.
tg-oncall-unknown = No on-call schedule “{ $name }”.
tg-oncall-covering = (covering)
tg-oncall-until = until { $when }
tg-oncall-next = next: { $name }
tg-update-usage = Usage: /update <incident number> <what is going on>
tg-update-not-here = Incident #{ $id } is not followed in this chat.
tg-update-anonymous = I cannot tell who wrote this, so it is not added.
tg-update-not-allowed = You are not allowed to post updates in this chat. Ask an administrator to authorize you.
tg-update-added = 📣 Added to the incident: every card shows it.
tg-maintenance-usage = Usage: /maintenance <installation> <length such as 2h> <reason>
tg-maintenance-not-allowed = You are not allowed to plan maintenance here.
tg-maintenance-length = “{ $length }” is not a length from 1s to 7d (say 90m, 2h).
tg-maintenance-set = 🛠 Maintenance on { $name } until { $when }: new problems there are recorded, not sent.
tg-help =
    I post alerts about the installations routed to this chat.
    /status <client or installation>: is this client fine?
    /alerts: what is open here
    /oncall: who is on call now and next
    /maintenance <installation> <length> <reason>: keep its new problems quiet for a while
    /update <incident> <text>: tell everyone following an incident (or reply to its card)
    /lang en|ru|it: the language of this chat
    /login: a link to the board (in a private chat with me)
tg-start-private = I can write to you here now.
nav-directory = People and schedules
directory-contacts = Contacts
directory-policies = Client policies
directory-oncall = On-call schedules
directory-escalation = Escalation policies
directory-maintenance = Maintenance windows
directory-saved = { $name }: saved.
save = Save
postmortem = Post-mortem
postmortem-read = Read it (written from the timeline with what people wrote)
postmortem-cause = Cause
postmortem-actions = What was done
postmortem-prevention = How to prevent it
settings-values = Settings (key = value per line; empty: the defaults)
settings-line = “{ $name }” is not a key = value line.
field-telegram = Telegram user id
login-link-intro = You asked the bot for this link. It works once, for a few minutes.
login-link-gone = This login link is spent or expired: ask the bot for a new one with /login.
tg-login-private = Ask me for a login link in a private chat with me, not here: anyone in this chat could use it.
tg-login-unknown = No staff account has your Telegram id. Ask an administrator to add it to your account.
tg-login-link = Your login link, valid once for 10 minutes: { $link }
