//! The language a person reads: English or Japanese.
//!
//! Owns [`Lang`] (chosen once, from `--lang` or the locale variables) and
//! the message macros [`tr!`](crate::tr), [`trw!`](crate::trw) and
//! [`term!`](crate::term). Every message is written once, with both
//! languages side by side; the compiler checks it cannot drift:
//!
//! - the placeholders are named arguments, and `format!` rejects a named
//!   argument that a language's text does not use, so a placeholder missing
//!   from either language is a compile error;
//! - a constant assertion rejects a Japanese text identical to the English
//!   one (a message someone forgot to translate).
//!
//! ```
//! use flowlint::report::lang::Lang;
//! let s = flowlint::tr!(Lang::Ja, "{port} is closed", "{port} は閉じています", port = 80);
//! assert_eq!(s, "80 は閉じています");
//! ```
//!
//! ```compile_fail
//! // The Japanese text lost the port: does not compile.
//! let s = flowlint::tr!(flowlint::report::lang::Lang::Ja,
//!     "{port} is closed", "閉じています", port = 80);
//! ```
//!
//! ```compile_fail
//! // Untranslated: does not compile.
//! let s = flowlint::tr!(flowlint::report::lang::Lang::Ja, "closed", "closed");
//! ```
//!
//! Words are made only when a report or a message is written; nothing here
//! runs on the packet path.

use std::ffi::OsString;

/// The language of everything a person reads (JSON keys and enumerated
/// values stay English whatever it is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// `en` or `ja` (as `--lang` takes them).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Lang::En),
            "ja" | "japanese" | "日本語" => Some(Lang::Ja),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language of a locale name: `ja`, `ja_JP.UTF-8`, `ja-JP` →
    /// Japanese; anything else (`C`, `POSIX`, `en_US.UTF-8`) → English.
    pub fn of_locale(locale: &str) -> Lang {
        let l = locale.trim().as_bytes();
        let ja = l.len() >= 2
            && l[..2].eq_ignore_ascii_case(b"ja")
            && l.get(2).is_none_or(|c| !c.is_ascii_alphabetic());
        if ja {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The language the locale variables give, as POSIX reads them for
    /// messages: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set
    /// and not empty decides; none → English.
    pub fn from_env() -> Lang {
        Lang::from_vars(|name| std::env::var_os(name))
    }

    /// [`Lang::from_env`] with the variables looked up by `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| var(name))
            .find(|v| !v.is_empty())
            .map_or(Lang::En, |v| Lang::of_locale(&v.to_string_lossy()))
    }

    /// The language of a command line: its `--lang X` / `--lang=X` (the last
    /// one wins, as clap takes it), else the locale variables. Read before
    /// the arguments are parsed, so that `--help` and argument errors are
    /// in that language too; an invalid value is left for the parser to
    /// reject.
    pub fn from_args<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Lang {
        let mut chosen = None;
        let mut iter = args.iter().map(|a| a.as_ref().to_string_lossy());
        while let Some(arg) = iter.next() {
            if arg == "--" {
                break;
            }
            let value = if arg == "--lang" {
                iter.next().map(|v| v.into_owned())
            } else {
                arg.strip_prefix("--lang=").map(str::to_string)
            };
            if let Some(lang) = value.as_deref().and_then(Lang::parse) {
                chosen = Some(lang);
            }
        }
        chosen.unwrap_or_else(Lang::from_env)
    }
}

/// An I/O error as a person reads it. The operating system words its
/// errors in English; the common kinds get a Japanese sentence, the others
/// keep the system's. The English rendering is the error's own `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoText {
    pub kind: std::io::ErrorKind,
    pub text: String,
}

impl IoText {
    pub fn new(e: &std::io::Error) -> IoText {
        IoText {
            kind: e.kind(),
            text: e.to_string(),
        }
    }

    pub fn render(&self, lang: Lang) -> String {
        use std::io::ErrorKind::*;
        if lang == Lang::En {
            return self.text.clone();
        }
        let ja = match self.kind {
            NotFound => "ファイルがありません",
            PermissionDenied => "権限がありません",
            IsADirectory => "ディレクトリです",
            InvalidData => "データが正しくありません",
            UnexpectedEof => "途中でデータが終わっています",
            _ => return self.text.clone(),
        };
        ja.to_string()
    }
}

impl std::fmt::Display for IoText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A list of names: `a, b` in English, `a、b` in Japanese.
pub fn list(names: &[String], lang: Lang) -> String {
    names.join(crate::term!(lang, ", ", "、"))
}

/// Are two strings equal? (`==` on `str` is not usable in constants.)
pub const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A message as a `String`, in `lang`: `tr!(lang, "english {x}", "日本語 {x}", x = value)`.
/// Placeholders are named arguments so that both texts must use each of
/// them (see the module documentation).
#[macro_export]
macro_rules! tr {
    ($lang:expr, $en:literal, $ja:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        const _: () = assert!(
            !$crate::report::lang::same($en, $ja),
            "untranslated message: the Japanese text is the English one"
        );
        match $lang {
            $crate::report::lang::Lang::En => format!($en $(, $name = $value)*),
            $crate::report::lang::Lang::Ja => format!($ja $(, $name = $value)*),
        }
    }};
}

/// [`tr!`] written to a `fmt::Write` or `io::Write`: `trw!(f, lang, "…", "…", x = v)`.
#[macro_export]
macro_rules! trw {
    ($f:expr, $lang:expr, $en:literal, $ja:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        const _: () = assert!(
            !$crate::report::lang::same($en, $ja),
            "untranslated message: the Japanese text is the English one"
        );
        match $lang {
            $crate::report::lang::Lang::En => write!($f, $en $(, $name = $value)*),
            $crate::report::lang::Lang::Ja => write!($f, $ja $(, $name = $value)*),
        }
    }};
}

/// A fixed term (no placeholders) as a `&'static str`: `term!(lang, "blocked", "遮断の疑い")`.
#[macro_export]
macro_rules! term {
    ($lang:expr, $en:literal, $ja:literal $(,)?) => {{
        const _: () = assert!(
            !$crate::report::lang::same($en, $ja),
            "untranslated term: the Japanese text is the English one"
        );
        match $lang {
            $crate::report::lang::Lang::En => $en,
            $crate::report::lang::Lang::Ja => $ja,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(set: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            set.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn locale_variables_decide_in_posix_order_skipping_empty_ones() {
        assert_eq!(Lang::from_vars(vars(&[])), Lang::En);
        assert_eq!(Lang::from_vars(vars(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
        assert_eq!(
            Lang::from_vars(vars(&[("LANG", "ja_JP.UTF-8"), ("LC_ALL", "C")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_vars(vars(&[("LC_ALL", ""), ("LC_MESSAGES", "ja_JP.eucJP")])),
            Lang::Ja
        );
        assert_eq!(
            Lang::from_vars(vars(&[("LC_MESSAGES", ""), ("LANG", "ja")])),
            Lang::Ja
        );
        for (locale, lang) in [
            ("ja", Lang::Ja),
            ("ja_JP", Lang::Ja),
            ("ja-JP", Lang::Ja),
            ("JA_jp.utf8", Lang::Ja),
            ("jav_ID", Lang::En),
            ("C.UTF-8", Lang::En),
            ("en_US.UTF-8", Lang::En),
            ("POSIX", Lang::En),
        ] {
            assert_eq!(Lang::of_locale(locale), lang, "{locale}");
        }
    }

    #[test]
    fn the_lang_option_overrides_the_locale_and_the_last_one_wins() {
        assert_eq!(
            Lang::from_args(&["flowlint", "--lang", "ja", "check"]),
            Lang::Ja
        );
        assert_eq!(
            Lang::from_args(&["flowlint", "check", "--lang=ja"]),
            Lang::Ja
        );
        assert_eq!(
            Lang::from_args(&["flowlint", "--lang=ja", "plan", "--lang", "en"]),
            Lang::En
        );
        // After `--` it is a file name.
        assert_eq!(
            Lang::from_args(&["flowlint", "--lang", "en", "check", "--", "--lang=ja"]),
            Lang::En
        );
    }

    #[test]
    fn messages_come_in_the_language_asked_for() {
        let en = crate::tr!(Lang::En, "{n} packets", "{n} パケット", n = 3);
        let ja = crate::tr!(Lang::Ja, "{n} packets", "{n} パケット", n = 3);
        assert_eq!((en.as_str(), ja.as_str()), ("3 packets", "3 パケット"));
        assert_eq!(
            crate::term!(Lang::Ja, "blocked", "遮断の疑い"),
            "遮断の疑い"
        );
        assert!(!same("a", "b") && same("注1", "注1") && !same("ab", "a"));
    }
}
