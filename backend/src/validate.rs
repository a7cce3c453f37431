//! The rules every text field a client sends is held to, whichever way it comes in (HTTP body,
//! WebSocket frame, settings): trimmed, required, and no longer than its limit.

use switchboard_shared::ErrorCode;

use crate::error::Error;

/// Trims a text field and checks its length.
pub fn field(value: &str, name: &str, max: usize) -> Result<String, Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(format!("{name} is required")));
    }
    if v.chars().count() > max {
        return Err(Error::client(
            ErrorCode::TooLarge,
            format!("{name} is over {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// A loose e-mail check: something@something.something, no spaces.
pub fn email(value: &str) -> Result<String, Error> {
    let v = field(value, "e-mail", 254)?;
    let ok = match v.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
        }
        None => false,
    };
    if !ok || v.contains(char::is_whitespace) {
        return Err(Error::invalid("that is not an e-mail address"));
    }
    Ok(v.to_lowercase())
}
