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
