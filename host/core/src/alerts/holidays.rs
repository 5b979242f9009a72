//! Seeded public-holiday calendars, computed per year (never fetched): fixed dates, and
//! Easter Monday where a country keeps it. Moved holidays (a government's bridge days)
//! are not predictable; a client adds them to its own `holidays`.

use jiff::civil::Date;

/// The calendars a client policy may name.
pub const CALENDARS: [&str; 2] = ["ru", "it"];

/// Whether `date` is a public holiday in `calendar`.
pub fn is_holiday(calendar: &str, date: Date) -> bool {
    let (month, day) = (date.month(), date.day());
    match calendar {
        // Labour Code art. 112: New Year holidays and Christmas (1–8 January), 23
        // February, 8 March, 1 and 9 May, 12 June, 4 November.
        "ru" => matches!(
            (month, day),
            (1, 1..=8) | (2, 23) | (3, 8) | (5, 1) | (5, 9) | (6, 12) | (11, 4)
        ),
        // Law 260/1949 and later: plus Easter Monday.
        "it" => {
            matches!(
                (month, day),
                (1, 1)
                    | (1, 6)
                    | (4, 25)
                    | (5, 1)
                    | (6, 2)
                    | (8, 15)
                    | (11, 1)
                    | (12, 8)
                    | (12, 25)
                    | (12, 26)
            ) || easter_sunday(date.year()).tomorrow().ok() == Some(date)
        }
        _ => false,
    }
}

/// Gregorian Easter Sunday (the anonymous algorithm of 1876).
fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8).unwrap_or(Date::constant(2000, 4, 23))
}

/// `holidays` plus the days of `calendars` between `from` and `to` (inclusive).
pub fn holidays_between(
    holidays: &[Date],
    calendars: &[String],
    from: Date,
    to: Date,
) -> Vec<Date> {
    let mut out = holidays.to_vec();
    let mut date = from;
    while date <= to && !calendars.is_empty() {
        if calendars.iter().any(|c| is_holiday(c, date)) {
            out.push(date);
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ferragosto_and_easter_monday_in_italy() {
        assert!(is_holiday("it", Date::constant(2026, 8, 15)));
        assert_eq!(easter_sunday(2026), Date::constant(2026, 4, 5));
        assert!(is_holiday("it", Date::constant(2026, 4, 6)));
        assert!(!is_holiday("it", Date::constant(2026, 4, 7)));
        assert!(is_holiday("ru", Date::constant(2027, 1, 7)));
        assert!(!is_holiday("ru", Date::constant(2026, 8, 15)));
    }
}
