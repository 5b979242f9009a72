# Слова Reveille по-русски. Каждый id отсюда есть и в en.ftl (это проверяет тест).

## Время
duration-seconds = { $n } с
duration-minutes = { $n } мин
duration-hours = { $n } ч
duration-days = { $n } д
ago = { $duration } назад
never = ни разу

## Навигация и вход
nav-board = Парк
nav-now = Сейчас
nav-installations = Установки
nav-plugins = Проверки
nav-staff = Сотрудники
language = Язык
logout = Выйти
login = Войти
login-title = Вход в Reveille
login-nobody-yet = Войти пока некому: откройте ссылку настройки, которую служба напечатала в журнал при запуске.
login-failed = Неверное имя или пароль.
login-throttled = Слишком много неудачных попыток для этой учётной записи; попробуйте через 15 минут.
field-name = Имя
field-password = Пароль
field-role = Роль
field-timezone = Часовой пояс
field-chat = Id чата Telegram
field-parent = За чем стоит (родитель)
setup-title = Добро пожаловать в Reveille
setup-intro = Создайте первого администратора. Ссылка работает один раз; затем входите с именем и паролем, которые зададите здесь.
setup-create = Создать администратора
setup-gone = Эта ссылка настройки уже использована или неверна: администратор уже есть. Войдите.

## Ошибки
error-title = Не удаётся показать
error-forbidden = У вас нет доступа к этой странице.
error-not-found = Здесь ничего нет.
error-csrf = Форма устарела или пришла не с этого сайта; обновите страницу и попробуйте снова.
error-changed = Тем временем всё изменилось; на странице — как есть сейчас.
error-snooze = Выберите одну из предложенных отсрочек.
back-to-board = К парку

## Парк
board-title = Парк установок
board-empty = Ни одна установка не подходит.
filter-any = все
filter-client-hint = клиент или установка
filter-problems = только проблемы
filter-apply = Показать
filter-reset = Сбросить
col-client = Клиент
col-installation = Установка
col-manager = Менеджер
col-report = Последний отчёт
col-update = Последнее обновление
col-shell = Оболочка
col-dongle = Ключ
col-seats = Места
col-alerts = Тревоги
col-severity = Важность
col-plugin = Проверка
col-state = Состояние
col-since = С
col-what = Что
col-down = Не работает
col-acknowledged-by = Взял
col-snoozed-until = Отложено до
col-resolution = Чем закончилось
col-version = Версия
col-calls = Вызовов
col-failures = Сбоев
col-last-error = Последняя ошибка
critical = критично
warning = внимание
info = сведения
dongle-present = на месте
dongle-lost = потерян
dongle-expired = истёк
dongle-blacklisted = в чёрном списке

## Сейчас
now-title = Что сломано сейчас
now-all-well = Во всём парке ничего не сломано.
incidents = Инциденты
alerts = Тревоги

## Тревоги и инциденты
alert = Тревога
incident = Инцидент
pending = ожидает
firing = горит
acknowledged = взята
snoozed = отложена
rechecking = перепроверка
resolved = решена
acknowledge = Взять
snooze-hours = Отложить на { $n } ч
timeline = Хронология
updates = Сообщения
members = Установки
members-hidden = …и ещё { $n } у клиентов других менеджеров.
down = не работает
back = снова работает
event-pending = придержана (защита от дребезга)
event-fired = сработала
event-changed = изменилась
event-resolved = решена
event-acknowledged = взята
event-snoozed = отложена
event-snooze-ended = отсрочка кончилась
event-ack-expired = взятие истекло
event-escalated = эскалирована
event-held = отложена до утренней сводки
event-digested = показана в сводке
event-unroutable = не удалось доставить
event-silenced = заглушена обслуживанием
event-announced = объявлена
event-waiting = ждёт других с той же причиной
event-joined = вошла в инцидент
event-rechecking = перепроверка
event-update = сообщение
event-postmortem = записан разбор
event-notified = отправлено
event-delivery-delayed = доставка задержана
event-delivery-failed = доставка не удалась
event-refused = отказано

## Клиент
client-history = За 30 дней
client-silence = Самое долгое молчание за день
client-no-alerts = Открытых тревог нет.
client-policy = Правила
client-default-policy = Своих правил нет: действуют общие.
client-settings = Настройки проверок
client-default-settings = Своих настроек нет: действуют настройки проверок по умолчанию.

## Администрирование
create = Создать
delete = Удалить
enable = Включить
disable = Выключить
upload = Загрузить
installation-new = Новая установка
installation-deleted = Установка { $name } удалена; решено открытых тревог: { $n }.
rotate-token = Новый токен
confirm-rotate = Выдать новый токен для { $name }? Старый сразу перестанет работать.
confirm-delete = Удалить { $name }? Отменить будет нельзя.
token-once = Токен отчётов для { $name }, показан один раз:
token-snippet = Вставьте это в настройки агента на установке:
plugin-upload = Загрузить проверку
plugin-file = Компонент (.wasm)
plugin-name-hint = по имени файла
plugin-override = вместо встроенной
plugin-no-file = Выберите файл .wasm для загрузки.
plugin-installed = { $name } { $what } работает.
plugin-done = { $name }: { $what } — готово.
plugin-active = работает
plugin-disabled = выключена
plugin-failed = не загрузилась
staff-new = Новая учётная запись
staff-manager-hint = для менеджера: имя, указанное у установок
staff-created = Учётная запись { $name } создана.
staff-exists = Учётная запись { $name } уже есть.
staff-not-yourself = Нельзя удалить собственную учётную запись.
admin = администратор
manager = менеджер
viewer = наблюдатель

## Telegram: сообщения о тревогах, ответы, сводки, карточки инцидентов
tg-critical = КРИТИЧНО
tg-warning = ВНИМАНИЕ
tg-info = СВЕДЕНИЯ
tg-resolved-head = ✅ РЕШЕНО · было { $severity }
tg-firing = Горит: пока никто не взял
tg-acknowledged = ✋ Взял { $who } в { $when }
tg-ack-until = , до { $when }
tg-snoozed = 💤 Отложил { $who } до { $when }
tg-resolved = Решено в { $when }, через { $duration } ({ $why })
tg-someone = кто-то
tg-cleared = прошло само
tg-since = С { $when } ({ $zone })
tg-escalated = ⏫ Передано { $who } в { $when }
tg-resolved-after = ✅ Решено через { $duration }
tg-now = Теперь
tg-reminder-escalated = ⏫ Передано выше, а никто так и не взял
tg-reminder = ⏰ Всё ещё горит, и никто не взял
tg-digest-head = 🌅 Пока вас не было: тревог { $n }
tg-digest-firing = Всё ещё горят:
tg-digest-acknowledged = Взяты:
tg-digest-resolved = Сработали и решены:
tg-folded-head = 🔔 Сразу { $n } новых тревог
tg-folded-hint = Слишком много, чтобы писать о каждой; /alerts покажет их с состоянием.
tg-line-since = с { $when }
tg-line-acknowledged = взял { $who } в { $when }
tg-line-escalated = передано { $who } в { $when }
incident-parent = { $parent } не работает
incident-check = { $plugin } на установках: { $n }
tg-incident-resolved-head = ✅ РЕШЕНО · инцидент №{ $id }: { $what }
tg-incident-head = ИНЦИДЕНТ №{ $id }: { $what }
tg-incident-count = Установок: { $total }, клиентов: { $clients } · снова работают { $back } из { $total }
tg-incident-parent-cause = Клиенты ни при чём: они стоят за { $parent }.
tg-incident-rechecking = 🔎 Причина устранена; перепроверяю ещё не работающие: { $n }
tg-incident-resolved = Решено в { $when }, через { $duration }
tg-incident-alone = Всё ещё не работают, теперь отдельными тревогами: { $list }
tg-postmortem = Разбор: { $link }
tg-affected = Затронуты:
tg-and-more = { $named } и ещё { $n }
tg-more-clients = … и ещё клиентов: { $n }; /api/v1/incidents/{ $id } покажет всех
tg-incident-resolved-reply = ✅ Инцидент №{ $id } решён через { $duration }
tg-incident-back = снова работают { $back } из { $total }
tg-incident-still-down = Всё ещё не работают: { $n }; теперь у каждой своя тревога.
tg-incident-reminder = ⏰ Инцидент №{ $id } продолжается, и никто не взял: не работают { $down } из { $total }
tg-lang-now = Этот чат читает Reveille по-русски. /lang en или /lang it переключит на английский или итальянский.
tg-lang-set = Теперь этот чат читает Reveille по-русски.
tg-lang-usage = Как пользоваться: /lang ru, /lang en или /lang it
tg-lang-not-allowed = Менять язык чата может только тот, кому разрешено действовать в нём.
tg-button-unknown = Это не моя кнопка.
tg-button-not-here = Здесь об этой тревоге не знают.
tg-button-not-allowed = Вам не разрешено действовать в этом чате. Попросите администратора дать доступ.
tg-alert-taken = Взято: теперь это ваше.
tg-alert-snoozed = Отложено. Напомню, если не пройдёт.
tg-incident-taken = Взято: инцидент и все его установки теперь ваши.
tg-incident-snoozed = Отложено вместе со всеми установками.
tg-gone = Этого больше нет.
tg-already-resolved = Уже решено.
tg-already-taken = Уже взял { $who }.
tg-nothing-to-do = Делать нечего: состояние — { $state }.
tg-status-usage = Как пользоваться: /status <клиент или установка>
tg-status-none = Ни одна установка, похожая на «{ $query }», не шлёт тревоги в этот чат.
tg-status-many = Подходят установки «{ $query }»: { $n }
tg-status-more = …и ещё { $n }.
tg-status-hint = /status <id установки> покажет карточку одной установки.
tg-status-reported = отчёт { $duration } назад
tg-status-no-report = отчётов ещё не было
tg-status-nothing-open = открытых тревог нет
tg-status-one-open = открыта 1 тревога
tg-status-open = открытых тревог: { $n }
tg-card-no-report = Последний отчёт: ещё не приходил
tg-card-report = Последний отчёт: { $when } ({ $duration } назад, { $agent })
tg-card-update = Последнее обновление: №{ $number }, { $when } ({ $duration } назад)
tg-card-no-update = Последнее обновление: в отчёте нет баз
tg-card-shell = Оболочка: { $version }
tg-card-shell-low = Оболочка: { $version } (ниже минимума { $minimum })
tg-card-shell-fine = Оболочка: { $version } (минимум { $minimum }: в порядке)
tg-card-no-shell = Оболочка: версии нет в последнем отчёте
tg-card-dongle = Ключ: { $state }
tg-card-dongle-error = Ключ: { $state } (ошибка { $code })
tg-card-no-dongle = Ключ: в последнем отчёте нет записи о защите
tg-card-seats = Места: занято { $used } из { $limit }{ $refused ->
    [0] {""}
   *[other] , отказано { $refused }
}
tg-card-no-seats = Места: нет в последнем отчёте
tg-card-no-alerts = Открытых тревог нет ✅
tg-card-alerts = Открытых тревог: { $n }
tg-state-since = { $state }, с { $when }
tg-alerts-none = Здесь открытых тревог нет ✅
tg-alerts-with-incidents = Здесь открыто: инцидентов { $incidents }, тревог { $n }
tg-alerts-incident = Инцидент №{ $id }: { $what }, не работают { $down } из { $total } ({ $state })
tg-alerts-more = …и ещё: смотрите доску или спросите /status об одном клиенте.
tg-oncall-none = Расписание дежурств не задано.
tg-oncall-unknown = Нет расписания дежурств «{ $name }».
tg-oncall-covering = (подменяет)
tg-oncall-until = до { $when }
tg-oncall-next = следом: { $name }
tg-update-usage = Как пользоваться: /update <номер инцидента> <что происходит>
tg-update-not-here = Инцидент №{ $id } в этом чате не отслеживается.
tg-update-anonymous = Не понимаю, кто это написал, поэтому не добавляю.
tg-update-not-allowed = Вам не разрешено писать сообщения об инцидентах в этом чате. Попросите администратора дать доступ.
tg-update-added = 📣 Добавлено к инциденту: это видно на каждой карточке.
tg-maintenance-usage = Как пользоваться: /maintenance <установка> <срок, например 2h> <причина>
tg-maintenance-not-allowed = Вам не разрешено объявлять обслуживание здесь.
tg-maintenance-length = «{ $length }» — не срок от 1s до 7d (например, 90m, 2h).
tg-maintenance-set = 🛠 Обслуживание { $name } до { $when }: новые проблемы там записываются, но не присылаются.
tg-help =
    Я присылаю тревоги об установках, привязанных к этому чату.
    /status <клиент или установка>: всё ли в порядке у клиента?
    /alerts: что здесь открыто
    /oncall: кто дежурит сейчас и следом
    /maintenance <установка> <срок> <причина>: не присылать её новые проблемы какое-то время
    /update <инцидент> <текст>: сообщить всем, кто следит за инцидентом (или ответьте на его карточку)
    /lang en|ru|it: язык этого чата
    /login: ссылка для входа на доску (в личном чате со мной)
tg-start-private = Теперь я могу писать вам здесь.
nav-directory = Люди и расписания
directory-contacts = Контакты
directory-policies = Правила клиентов
directory-oncall = Дежурства
directory-escalation = Эскалация
directory-maintenance = Обслуживание
directory-saved = { $name }: сохранено.
save = Сохранить
postmortem = Разбор
postmortem-read = Прочитать (составлен по хронологии и тому, что написали люди)
postmortem-cause = Причина
postmortem-actions = Что сделали
postmortem-prevention = Как не допустить
settings-values = Настройки (ключ = значение, по одной в строке; пусто — по умолчанию)
settings-line = «{ $name }» — не строка вида ключ = значение.
field-telegram = Id пользователя Telegram
login-link-intro = Вы попросили эту ссылку у бота. Она работает один раз, несколько минут.
login-link-gone = Эта ссылка для входа уже использована или истекла: попросите у бота новую командой /login.
tg-login-private = Попросите ссылку для входа в личном чате со мной, не здесь: ею мог бы воспользоваться любой в этом чате.
tg-login-unknown = Ни у одной учётной записи нет вашего id Telegram. Попросите администратора добавить его.
tg-login-link = Ваша ссылка для входа, один раз на 10 минут: { $link }
