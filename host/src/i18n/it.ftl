# Le parole di Reveille in italiano. Ogni id qui è anche in en.ftl (un test lo controlla).

## Tempo
duration-seconds = { $n } s
duration-minutes = { $n } min
duration-hours = { $n } h
duration-days = { $n } g
ago = { $duration } fa
never = mai

## Navigazione e accesso
nav-board = Parco
nav-now = Adesso
nav-installations = Installazioni
nav-plugins = Controlli
nav-staff = Personale
language = Lingua
logout = Esci
login = Accedi
login-title = Accesso a Reveille
login-nobody-yet = Nessuno può ancora accedere: apri il link di configurazione che il servizio ha scritto nel suo log all'avvio.
login-failed = Nome o password errati.
login-throttled = Troppi tentativi falliti per questo account; riprova tra 15 minuti.
field-name = Nome
field-password = Password
field-role = Ruolo
field-timezone = Fuso orario
field-chat = Id della chat Telegram
field-parent = Dietro a (genitore)
setup-title = Benvenuto in Reveille
setup-intro = Crea il primo amministratore. Questo link funziona una sola volta; poi accedi con il nome e la password scelti qui.
setup-create = Crea l'amministratore
setup-gone = Questo link di configurazione è già stato usato o non è valido: un amministratore esiste già. Accedi.

## Errori
error-title = Impossibile mostrarlo
error-forbidden = Non hai accesso a questa pagina.
error-not-found = Qui non c'è niente.
error-csrf = Il modulo è scaduto o non viene da questo sito; ricarica la pagina e riprova.
error-changed = Nel frattempo è cambiato; la pagina lo mostra com'è ora.
error-snooze = Scegli una delle durate proposte.
back-to-board = Torna al parco

## Parco
board-title = Parco installazioni
board-empty = Nessuna installazione corrisponde.
filter-any = tutti
filter-client-hint = cliente o installazione
filter-problems = solo problemi
filter-apply = Applica
filter-reset = Azzera
col-client = Cliente
col-installation = Installazione
col-manager = Referente
col-report = Ultimo rapporto
col-update = Ultimo aggiornamento
col-shell = Shell
col-dongle = Chiave
col-seats = Postazioni
col-alerts = Allarmi
col-severity = Gravità
col-plugin = Controllo
col-state = Stato
col-since = Da
col-what = Cosa
col-down = Fuori servizio
col-acknowledged-by = Preso da
col-snoozed-until = Rimandato fino a
col-resolution = Esito
col-version = Versione
col-calls = Chiamate
col-failures = Errori
col-last-error = Ultimo errore
critical = critico
warning = avviso
info = info
dongle-present = presente
dongle-lost = persa
dongle-expired = scaduta
dongle-blacklisted = in lista nera

## Adesso
now-title = Guasto adesso
now-all-well = Nel parco non c'è niente di guasto.
incidents = Incidenti
alerts = Allarmi

## Allarmi e incidenti
alert = Allarme
incident = Incidente
pending = in attesa
firing = attivo
acknowledged = preso in carico
snoozed = rimandato
rechecking = in ricontrollo
resolved = risolto
acknowledge = Prendi in carico
snooze-hours = Rimanda di { $n } h
timeline = Cronologia
updates = Aggiornamenti
members = Installazioni
members-hidden = …e altre { $n } di clienti di altri referenti.
down = fuori servizio
back = di nuovo in funzione
event-pending = trattenuto (smorzamento)
event-fired = scattato
event-changed = cambiato
event-resolved = risolto
event-acknowledged = preso in carico
event-snoozed = rimandato
event-snooze-ended = rinvio scaduto
event-ack-expired = presa in carico scaduta
event-escalated = inoltrato
event-held = tenuto per il riepilogo del mattino
event-digested = mostrato nel riepilogo
event-unroutable = impossibile consegnare a qualcuno
event-silenced = silenziato dalla manutenzione
event-announced = annunciato
event-waiting = in attesa di altri con la stessa causa
event-joined = unito a un incidente
event-rechecking = in ricontrollo
event-update = aggiornamento
event-postmortem = post-mortem scritto
event-notified = notificato
event-delivery-delayed = consegna ritardata
event-delivery-failed = consegna fallita
event-refused = rifiutato

## Cliente
client-history = Ultimi 30 giorni
client-silence = Silenzio più lungo al giorno
client-no-alerts = Nessun allarme aperto.
client-policy = Regole
client-default-policy = Nessuna regola propria: valgono quelle predefinite.
client-settings = Impostazioni dei controlli
client-default-settings = Nessuna impostazione propria: valgono i valori predefiniti dei controlli.

## Amministrazione
create = Crea
delete = Elimina
enable = Attiva
disable = Disattiva
upload = Carica
installation-new = Nuova installazione
installation-deleted = Installazione { $name } eliminata; allarmi aperti risolti: { $n }.
rotate-token = Nuovo token
confirm-rotate = Emettere un nuovo token per { $name }? Quello vecchio smette subito di funzionare.
confirm-delete = Eliminare { $name }? Non si può annullare.
token-once = Il token dei rapporti di { $name }, mostrato solo ora:
token-snippet = Incolla questo nella configurazione dell'agente sull'installazione:
plugin-upload = Carica un controllo
plugin-file = Componente (.wasm)
plugin-name-hint = dal nome del file
plugin-override = al posto di quello integrato
plugin-no-file = Scegli un file .wasm da caricare.
plugin-installed = { $name } { $what } è in servizio.
plugin-done = { $name }: { $what } fatto.
plugin-active = in servizio
plugin-disabled = disattivato
plugin-failed = caricamento fallito
staff-new = Nuovo account
staff-manager-hint = per un referente: il nome riportato dalle installazioni
staff-created = Account { $name } creato.
staff-exists = Esiste già un account { $name }.
staff-not-yourself = Non puoi eliminare il tuo account.
admin = amministratore
manager = referente
viewer = osservatore

## Telegram: messaggi di allarme, risposte, riepiloghi, schede degli incidenti
tg-critical = CRITICO
tg-warning = AVVISO
tg-info = INFO
tg-resolved-head = ✅ RISOLTO · era { $severity }
tg-firing = Attivo: nessuno l'ha ancora preso in carico
tg-acknowledged = ✋ Preso in carico da { $who } alle { $when }
tg-ack-until = , fino alle { $when }
tg-snoozed = 💤 Rimandato da { $who } fino alle { $when }
tg-resolved = Risolto alle { $when } dopo { $duration } ({ $why })
tg-someone = qualcuno
tg-cleared = rientrato da solo
tg-since = Dalle { $when } ({ $zone })
tg-escalated = ⏫ Inoltrato a { $who } alle { $when }
tg-resolved-after = ✅ Risolto dopo { $duration }
tg-now = Ora
tg-reminder-escalated = ⏫ Inoltrato, e ancora nessuno lo segue
tg-reminder = ⏰ Ancora attivo, nessuno lo segue ora
tg-digest-head = 🌅 Mentre eri via: allarmi { $n }
tg-digest-firing = Ancora attivi:
tg-digest-acknowledged = Presi in carico:
tg-digest-resolved = Scattati e risolti:
tg-folded-head = 🔔 { $n } nuovi allarmi insieme
tg-folded-hint = Troppi per un messaggio ciascuno; /alerts li elenca con il loro stato.
tg-line-since = dalle { $when }
tg-line-acknowledged = preso in carico da { $who } alle { $when }
tg-line-escalated = inoltrato a { $who } alle { $when }
incident-parent = { $parent } non funziona
incident-check = { $plugin } su { $n } installazioni
tg-incident-resolved-head = ✅ RISOLTO · incidente n. { $id }: { $what }
tg-incident-head = INCIDENTE n. { $id }: { $what }
tg-incident-count = Installazioni: { $total }, clienti: { $clients } · di nuovo in funzione { $back } su { $total }
tg-incident-parent-cause = Non dipende dai clienti: stanno dietro a { $parent }.
tg-incident-rechecking = 🔎 La causa è sparita; ricontrollo quelle ancora fuori servizio: { $n }
tg-incident-resolved = Risolto alle { $when } dopo { $duration }
tg-incident-alone = Ancora fuori servizio, ora con un allarme proprio: { $list }
tg-postmortem = Post-mortem: { $link }
tg-affected = Coinvolti:
tg-and-more = { $named } e altre { $n }
tg-more-clients = … e altri clienti: { $n }; /api/v1/incidents/{ $id } li elenca tutti
tg-incident-resolved-reply = ✅ Incidente n. { $id } risolto dopo { $duration }
tg-incident-back = di nuovo in funzione { $back } su { $total }
tg-incident-still-down = Ancora fuori servizio: { $n }; ora ognuna ha il suo allarme.
tg-incident-reminder = ⏰ L'incidente n. { $id } continua e nessuno lo segue: fuori servizio { $down } su { $total }
tg-lang-now = Questa chat legge Reveille in italiano. /lang en o /lang ru cambia lingua.
tg-lang-set = Ora questa chat legge Reveille in italiano.
tg-lang-usage = Uso: /lang en, /lang ru o /lang it
tg-lang-not-allowed = Solo chi è autorizzato in questa chat può cambiarne la lingua.
tg-button-unknown = Questo pulsante non è mio.
tg-button-not-here = Qui questo allarme non è noto.
tg-button-not-allowed = Non sei autorizzato ad agire sugli allarmi in questa chat. Chiedi a un amministratore.
tg-alert-taken = Preso in carico: è tuo.
tg-alert-snoozed = Rimandato. Te lo ricorderò se persiste.
tg-incident-taken = Preso in carico: l'incidente e tutte le sue installazioni sono tuoi.
tg-incident-snoozed = Rimandato, con tutte le sue installazioni.
tg-gone = Non esiste più.
tg-already-resolved = È già risolto.
tg-already-taken = Già preso in carico da { $who }.
tg-nothing-to-do = Niente da fare: è { $state }.
tg-status-usage = Uso: /status <cliente o installazione>
tg-status-none = Nessuna installazione simile a «{ $query }» invia i suoi allarmi a questa chat.
tg-status-many = Installazioni che corrispondono a «{ $query }»: { $n }
tg-status-more = …e altre { $n }.
tg-status-hint = /status <id installazione> mostra la scheda di un'installazione.
tg-status-reported = rapporto { $duration } fa
tg-status-no-report = ancora nessun rapporto
tg-status-nothing-open = niente di aperto
tg-status-one-open = 1 allarme aperto
tg-status-open = allarmi aperti: { $n }
tg-card-no-report = Ultimo rapporto: non ancora ricevuto
tg-card-report = Ultimo rapporto: { $when } ({ $duration } fa, { $agent })
tg-card-update = Ultimo aggiornamento: n. { $number }, { $when } ({ $duration } fa)
tg-card-no-update = Ultimo aggiornamento: nessuna base nell'ultimo rapporto
tg-card-shell = Shell: { $version }
tg-card-shell-low = Shell: { $version } (sotto il minimo { $minimum })
tg-card-shell-fine = Shell: { $version } (minimo { $minimum }: a posto)
tg-card-no-shell = Shell: versione assente nell'ultimo rapporto
tg-card-dongle = Chiave: { $state }
tg-card-dongle-error = Chiave: { $state } (errore { $code })
tg-card-no-dongle = Chiave: nessun dato di protezione nell'ultimo rapporto
tg-card-seats = Postazioni: { $used } su { $limit } in uso{ $refused ->
    [0] {""}
   *[other] , { $refused } rifiutate
}
tg-card-no-seats = Postazioni: assenti nell'ultimo rapporto
tg-card-no-alerts = Allarmi aperti: nessuno ✅
tg-card-alerts = Allarmi aperti: { $n }
tg-state-since = { $state }, dalle { $when }
tg-alerts-none = Qui non ci sono allarmi aperti ✅
tg-alerts-with-incidents = Aperti qui: incidenti { $incidents }, allarmi { $n }
tg-alerts-incident = Incidente n. { $id }: { $what }, fuori servizio { $down } su { $total } ({ $state })
tg-alerts-more = …e altri: vedi il parco o chiedi /status per un cliente.
tg-oncall-none = Nessun turno di reperibilità configurato.
tg-oncall-unknown = Nessun turno di reperibilità «{ $name }».
tg-oncall-covering = (in sostituzione)
tg-oncall-until = fino alle { $when }
tg-oncall-next = poi: { $name }
tg-update-usage = Uso: /update <numero incidente> <cosa succede>
tg-update-not-here = L'incidente n. { $id } non è seguito in questa chat.
tg-update-anonymous = Non so chi l'ha scritto, quindi non lo aggiungo.
tg-update-not-allowed = Non sei autorizzato a scrivere aggiornamenti in questa chat. Chiedi a un amministratore.
tg-update-added = 📣 Aggiunto all'incidente: ogni scheda lo mostra.
tg-maintenance-usage = Uso: /maintenance <installazione> <durata, per esempio 2h> <motivo>
tg-maintenance-not-allowed = Non sei autorizzato a pianificare manutenzioni qui.
tg-maintenance-length = «{ $length }» non è una durata tra 1s e 7d (per esempio 90m, 2h).
tg-maintenance-set = 🛠 Manutenzione su { $name } fino alle { $when }: i nuovi problemi vengono registrati, non inviati.
tg-help =
    Invio gli allarmi delle installazioni collegate a questa chat.
    /status <cliente o installazione>: questo cliente sta bene?
    /alerts: cosa è aperto qui
    /oncall: chi è reperibile ora e dopo
    /maintenance <installazione> <durata> <motivo>: silenzia per un po' i suoi nuovi problemi
    /update <incidente> <testo>: informa chi segue un incidente (o rispondi alla sua scheda)
    /lang en|ru|it: la lingua di questa chat
    /login: un link per il parco (in una chat privata con me)
tg-start-private = Ora posso scriverti qui.
nav-directory = Persone e turni
directory-contacts = Contatti
directory-policies = Regole dei clienti
directory-oncall = Turni di reperibilità
directory-escalation = Regole di inoltro
directory-maintenance = Finestre di manutenzione
directory-saved = { $name }: salvato.
save = Salva
postmortem = Post-mortem
postmortem-read = Leggilo (scritto dalla cronologia con quanto scritto dalle persone)
postmortem-cause = Causa
postmortem-actions = Cosa è stato fatto
postmortem-prevention = Come evitarlo
settings-values = Impostazioni (chiave = valore per riga; vuoto: i predefiniti)
settings-line = «{ $name }» non è una riga chiave = valore.
field-telegram = Id utente Telegram
login-link-intro = Hai chiesto questo link al bot. Funziona una volta, per pochi minuti.
login-link-gone = Questo link di accesso è già stato usato o è scaduto: chiedine uno nuovo al bot con /login.
tg-login-private = Chiedimi un link di accesso in una chat privata con me, non qui: chiunque in questa chat potrebbe usarlo.
tg-login-unknown = Nessun account ha il tuo id Telegram. Chiedi a un amministratore di aggiungerlo al tuo account.
tg-login-link = Il tuo link di accesso, valido una volta per 10 minuti: { $link }
