//! serde error messages end in " at line L column C"; bench-gate prints the
//! position first (`file:line:col: message`), so these split it off.

/// The message without serde's trailing " at line … column …".
pub fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A serde_yaml error as its message and, when known, its line and column.
pub fn yaml(e: &serde_yaml::Error) -> (String, Option<(usize, usize)>) {
    (
        strip_position(&e.to_string()),
        e.location().map(|l| (l.line(), l.column())),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_the_position_off() {
        let e = serde_yaml::from_str::<Vec<u8>>("a: [").unwrap_err();
        let (message, at) = super::yaml(&e);
        assert!(!message.contains(" at line "), "{message}");
        assert_eq!(at.map(|(l, _)| l), Some(1));
        assert_eq!(super::strip_position("x at line 3 column 4"), "x");
    }
}
