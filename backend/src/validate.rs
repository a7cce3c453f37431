//! The rules every text field a client sends is held to, whichever way it comes in (HTTP body,
//! WebSocket frame, settings): trimmed, required, no longer than its limit, and free of the
//! characters no database should be handed (NUL, other control characters but line breaks and
//! tabs, Unicode noncharacters). They are refused with `invalid_input` the same way on SQLite
//! and PostgreSQL, before anything is stored. What the widget reports about a page (address,
//! title) is not typed by anyone: it is cleaned and cut to length instead of refused.

use switchboard_shared::ErrorCode;

use crate::error::Error;

/// Whether `c` may be stored: no NUL or other control character (tabs and line breaks
/// aside), no Unicode noncharacter.
pub fn storable(c: char) -> bool {
    let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    let nonchar = matches!(u32::from(c), 0xFDD0..=0xFDEF) || (u32::from(c) & 0xFFFE) == 0xFFFE;
    !control && !nonchar
}

/// Refuses text with a character that is never stored.
pub fn clean(value: &str, name: &str) -> Result<(), Error> {
    match value.chars().find(|c| !storable(*c)) {
        Some(c) => Err(Error::invalid(format!(
            "{name} holds a character that is not allowed (U+{:04X})",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

/// Page data the widget reports: characters that are never stored are replaced, and the
/// text is cut to `max` characters.
pub fn page_text(value: &str, max: usize) -> String {
    value
        .trim()
        .chars()
        .map(|c| if storable(c) { c } else { '\u{FFFD}' })
        .take(max)
        .collect()
}

/// Trims a text field and checks its length and characters.
pub fn field(value: &str, name: &str, max: usize) -> Result<String, Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(format!("{name} is required")));
    }
    clean(v, name)?;
    if v.chars().count() > max {
        return Err(Error::client(
            ErrorCode::TooLarge,
            format!("{name} is over {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// An e-mail address as people type them: `local@domain.tld`. The local part is letters,
/// digits and `.!#$%&'*+/=?^_`{|}~-` (no quoting, no comments); the domain is dot-separated
/// labels of letters, digits and inner hyphens, ending in a top-level domain of letters.
/// Anything else (markup, spaces, brackets) is `invalid_input`. Stored in lower case.
pub fn email(value: &str) -> Result<String, Error> {
    let v = field(value, "e-mail", 254)?;
    let refused = || Error::invalid("that is not an e-mail address");
    let (local, domain) = v.rsplit_once('@').ok_or_else(refused)?;
    let local_ok = !local.is_empty()
        && local.chars().count() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().count() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().count() >= 2 && t.chars().all(char::is_alphabetic));
    if !local_ok || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) || !tld_ok {
        return Err(refused());
    }
    Ok(v.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_shared::ErrorCode;

    fn code(r: Result<String, Error>) -> Option<ErrorCode> {
        match r {
            Err(Error::Client { code, .. }) => Some(code),
            _ => None,
        }
    }

    #[test]
    fn text_with_characters_never_stored_is_refused() {
        for bad in [
            "x\u{0}y",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}x",
            "\u{FDD0}",
            "\u{FFFF}",
            "\u{1FFFE}",
        ] {
            assert_eq!(
                code(field(bad, "name", 100)),
                Some(ErrorCode::InvalidInput),
                "{bad:?}"
            );
        }
        assert_eq!(
            field(" Anna\tB.\nline ", "name", 100).unwrap(),
            "Anna\tB.\nline"
        );
        assert_eq!(field("émoji 🚲 ok", "name", 100).unwrap(), "émoji 🚲 ok");
        assert_eq!(code(field("abc", "name", 2)), Some(ErrorCode::TooLarge));
        assert_eq!(code(field("  ", "name", 2)), Some(ErrorCode::InvalidInput));
    }

    #[test]
    fn e_mail_addresses_are_what_people_type() {
        for ok in [
            "ann@example.com",
            "Ann.Lee+shop@Mail.Example.co.uk",
            "o'neil@example.ie",
            "zoë@exämple.de",
        ] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in [
            "user@example.com<script>alert(1)</script>",
            "user@example.com>",
            "<user@example.com>",
            "user name@example.com",
            "user@example",
            "user@.example.com",
            "user@example..com",
            "user@-example.com",
            "user@example.c0m",
            "user@example.c",
            ".user@example.com",
            "us..er@example.com",
            "user@exa_mple.com",
            "\"quoted\"@example.com",
            "a@b@example.com",
            "@example.com",
            "user@",
        ] {
            assert_eq!(code(email(bad)), Some(ErrorCode::InvalidInput), "{bad}");
        }
    }

    #[test]
    fn page_data_is_cleaned_and_cut() {
        assert_eq!(page_text(" Red\u{0}Racer ", 100), "Red\u{FFFD}Racer");
        assert_eq!(page_text(&"x".repeat(5000), 2048).len(), 2048);
    }
}
