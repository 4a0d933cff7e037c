//! What the SVG charts (the HTML report's bars, the history's lines) share:
//! how wide a label will be, so a chart leaves room for its text instead of
//! letting the SVG's edge cut it off.
//!
//! The width is an estimate made before any browser sees the text, so it
//! errs wide: per class of character, the advance of DejaVu Sans (Debian's
//! default sans-serif, wider than Arial, Helvetica, Liberation Sans or
//! system-ui fonts) rounded up. `tests/it/browser.rs` checks the result in
//! Chromium.

/// The width in pixels of `text` set at `font_px` in a sans-serif font.
pub fn text_width(text: &str, font_px: f64) -> f64 {
    text.chars().map(em).sum::<f64>() * font_px
}

/// The width of `text` in bold.
pub fn bold_width(text: &str, font_px: f64) -> f64 {
    text_width(text, font_px) * 1.12
}

/// One character's advance in ems.
fn em(c: char) -> f64 {
    match c {
        ' ' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | 'i' | 'j' | 'l' | 'I' => 0.34,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '/' | '-' | '"' => 0.44,
        'm' | 'w' | 'M' | 'W' | '%' | '@' | '—' | '…' => 1.0,
        'A'..='Z' => 0.8,
        c if c.is_ascii() => 0.66,
        // Accents, other scripts, symbols and emoji: as wide as an em.
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_text_is_wider_and_no_character_is_free() {
        assert!(text_width("3.290 req/s", 11.0) > text_width("3 req/s", 11.0));
        assert!(text_width("mmm", 10.0) > text_width("iii", 10.0));
        assert!(bold_width("abc", 11.0) > text_width("abc", 11.0));
        // DejaVu Sans' digit is 0.636 em: at 11 px, ten digits take 70 px.
        assert!(text_width("0123456789", 11.0) >= 70.0);
        assert_eq!(text_width("", 11.0), 0.0);
        assert!(text_width("é✓", 10.0) >= 20.0);
    }
}
