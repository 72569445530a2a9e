//! The Admin API access token: wiped from memory when dropped, and never
//! printed (Debug and Display show only that a token is there).

use std::fmt;

use zeroize::Zeroizing;

#[derive(Clone)]
pub struct AccessToken(Zeroizing<String>);

impl AccessToken {
    /// Wraps a token, trimming the newline a Secret created from a file often carries.
    pub fn new(token: impl Into<String>) -> AccessToken {
        let mut token: String = token.into();
        let trimmed_len = token.trim_end().len();
        token.truncate(trimmed_len);
        AccessToken(Zeroizing::new(token))
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The token as a header value, marked sensitive so no HTTP-level debug
    /// output shows it.
    pub(crate) fn header_value(&self) -> Option<reqwest::header::HeaderValue> {
        let mut value = reqwest::header::HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_shows_in_debug() {
        let token = AccessToken::new("shpat_secret_value\n");
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
        assert!(token.header_value().unwrap().is_sensitive());
        assert_eq!(
            token.header_value().unwrap().to_str().unwrap(),
            "shpat_secret_value"
        );
    }
}
