//! `--help` in Japanese: the command tree of [`crate::Cli`], with every
//! about text and option description replaced by its Japanese text.
//!
//! The English texts are the derive's doc comments; the Japanese ones are
//! here, keyed by subcommand and argument id. A test walks the whole tree
//! and fails when an argument or subcommand has no Japanese text, so a new
//! option cannot ship with English-only help.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command, CommandFactory};

use flowlint::report::lang::Lang;

/// The command line parser, its help in `lang`.
pub fn command(lang: Lang) -> Command {
    let cmd = crate::Cli::command();
    match lang {
        Lang::En => cmd,
        Lang::Ja => {
            let mut cmd = japanese(cmd, None);
            // The usage lines and the `help` subcommand exist only once the
            // tree is built: worded after building it.
            cmd.build();
            japanese_built(&mut cmd);
            cmd
        }
    }
}

/// The texts clap makes while building: `[OPTIONS]` in every usage line,
/// and the description of its `help` subcommand and of that one's argument.
fn japanese_built(cmd: &mut Command) {
    let usage = cmd.render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
    let usage = usage.replace("[OPTIONS]", "[オプション]");
    let mut built = std::mem::take(cmd).override_usage(usage);
    let subs: Vec<String> = built
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in subs {
        if name == "help" {
            built = built.mut_subcommand("help", |help| {
                let ids: Vec<String> = help
                    .get_arguments()
                    .map(|a| a.get_id().to_string())
                    .collect();
                let mut help = help
                    .about("このヘルプ、または指定したコマンドのヘルプを表示します")
                    .help_template(TEMPLATE)
                    .subcommand_help_heading("コマンド")
                    .subcommand_value_name("コマンド");
                for id in ids {
                    help = help.mut_arg(id.as_str(), |a| {
                        a.help("ヘルプを表示するコマンド").help_heading("引数")
                    });
                }
                help
            });
        }
    }
    for sub in built.get_subcommands_mut() {
        japanese_built(sub);
    }
    *cmd = built;
}

/// A command-line error as one Japanese sentence, from clap's error kind
/// and the facts it keeps (the argument, the value, the valid values);
/// `None` for a kind without those facts (the caller keeps clap's words).
pub fn error_line(e: &clap::Error) -> Option<String> {
    let string = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let strings = |kind| match e.get(kind) {
        Some(ContextValue::Strings(v)) => Some(v.clone()),
        Some(ContextValue::String(s)) => Some(vec![s.clone()]),
        _ => None,
    };
    let suggestion = strings(ContextKind::SuggestedArg)
        .or_else(|| strings(ContextKind::SuggestedSubcommand))
        .or_else(|| strings(ContextKind::SuggestedValue))
        .map(|s| format!("（もしかして {}）", s.join("、")))
        .unwrap_or_default();
    let valid = |list: Option<Vec<String>>| {
        list.filter(|v| !v.is_empty())
            .map(|v| format!("（使える値: {}）", v.join("、")))
            .unwrap_or_default()
    };
    let arg = string(ContextKind::InvalidArg);
    let value = string(ContextKind::InvalidValue);
    Some(match e.kind() {
        ErrorKind::UnknownArgument => {
            format!("不明な引数 '{}' です{suggestion}", arg?)
        }
        ErrorKind::InvalidValue if value.as_deref() == Some("") => {
            format!("{} に値を指定してください", arg?)
        }
        ErrorKind::InvalidValue => format!(
            "{} に値 '{}' は使えません{}{suggestion}",
            arg?,
            value?,
            valid(strings(ContextKind::ValidValue))
        ),
        // The parser's reason (e.g. "invalid digit found in string") is
        // Rust's English: the option's value name says what is wanted.
        ErrorKind::ValueValidation => {
            format!("{} の値 '{}' が正しくありません", arg?, value?)
        }
        ErrorKind::InvalidSubcommand => format!(
            "不明なコマンド '{}' です{suggestion}",
            string(ContextKind::InvalidSubcommand)?
        ),
        ErrorKind::MissingRequiredArgument => format!(
            "必須の引数 {} が指定されていません",
            strings(ContextKind::InvalidArg)?.join("、")
        ),
        ErrorKind::MissingSubcommand => format!(
            "コマンドを指定してください{}",
            valid(strings(ContextKind::ValidSubcommand))
        ),
        ErrorKind::ArgumentConflict => {
            let arg = arg?;
            match strings(ContextKind::PriorArg) {
                Some(prior) if prior == [arg.clone()] => {
                    format!("{arg} は 1 回しか指定できません")
                }
                Some(prior) => format!("{arg} は {} と一緒には使えません", prior.join("、")),
                None => format!("{arg} はほかの引数と一緒には使えません"),
            }
        }
        ErrorKind::TooManyValues => {
            format!("{} の後の値 '{}' は余分です", arg?, value?)
        }
        ErrorKind::NoEquals => format!("{} の値は = で続けて書いてください", arg?),
        ErrorKind::InvalidUtf8 => "引数が UTF-8 ではありません".to_string(),
        _ => return None,
    })
}

const TEMPLATE: &str =
    "{before-help}{about-with-newline}\n使い方: {usage}\n\n{all-args}{after-help}";

/// `cmd` (the subcommand `sub`, or the top level) with Japanese texts.
fn japanese(cmd: Command, sub: Option<&str>) -> Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let mut cmd = cmd
        .help_template(TEMPLATE)
        .subcommand_help_heading("コマンド")
        .subcommand_value_name("コマンド")
        // clap's own --help (and --version) say "Print help" and cannot be
        // reworded: replaced by the same flags with Japanese texts.
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("ヘルプを表示します")
                .help_heading("オプション"),
        );
    if let Some(about) = about(sub) {
        cmd = cmd.about(about);
    }
    if let Some(after) = after_help(sub) {
        cmd = cmd.after_help(after);
    }
    if sub.is_none() {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("バージョンを表示します")
                .help_heading("オプション"),
        );
    }
    for id in ids {
        let help = arg_help(sub, &id);
        cmd = cmd.mut_arg(id.as_str(), |a| {
            let heading = if a.is_positional() {
                "引数"
            } else {
                "オプション"
            };
            let mut a = a.help_heading(heading);
            if a.get_action().takes_values() {
                // "[default: 3]" and "[possible values: …]" are clap's
                // English: the Japanese texts say them.
                a = a.hide_default_value(true).hide_possible_values(true);
            }
            match help {
                Some(h) => a.help(h),
                None => a,
            }
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name.as_str(), |c| japanese(c, Some(name.as_str())));
    }
    cmd
}

/// The about text of the top level (`None`) or a subcommand.
fn about(sub: Option<&str>) -> Option<&'static str> {
    Some(match sub {
        None => ABOUT,
        Some("check") => "キャプチャファイル（pcap、pcapng）を 1 つの分析として調べます。",
        Some("live") => {
            "インタフェースのライブ通信を調べます（ビルド機能 live と libpcap が必要です）。"
        }
        Some("catalog") => {
            "有効なカタログを表示します（--inventory と --services によるポート変更の後）。"
        }
        Some("plan") => {
            "インベントリが許可すべき通信をすべて表示します（ファイアウォールのチェックリスト）。"
        }
        Some(_) => return None,
    })
}

const ABOUT: &str = "通信を JP1/IT Desktop Management 2 と Systemwalker Operation Manager のポート一覧と照合し、\
必要な通信のうちどれが動いていて、どれが遮断されているようで、どれが逆方向で、どれがあってはならないかを示します。";

const AFTER_HELP: &str = "\
判定（通信 = クライアント、サーバ、サーバポート、プロトコルの組ごとに 1 つ）:
  expected（想定どおり）       カタログのルールが許可し、すべての接続が成功した
  blocked（遮断の疑い）        ルールが許可しているが、接続が失敗した（no_reply、refused、unreachable、
                               またはルールが応答を期待する unanswered）
  wrong_direction（逆方向）    逆向きだけが許可されている
  unexpected（想定外）         カタログのポートだが、どちら向きでもルールが許可しない（役割、条件）
  unlisted（対象外）           どのカタログにもないポート

終了ステータス: 0 --fail-on の判定は見つからなかった。1 見つかった（またはベースラインとの比較で新しい
検出や消えたルールがあった）。2 実行自体が失敗した（引数の誤り、読めないキャプチャ、不正なインベントリ・
カタログ・ベースライン）。

例:
  flowlint check --inventory site.toml capture.pcapng
  flowlint check -o report.json --format json a.pcap b.pcap
  flowlint check --baseline last-good.json --inventory lab.toml lab.pcapng
  flowlint plan --inventory site.toml
  flowlint catalog --catalog systemwalker-om --services services";

fn after_help(sub: Option<&str>) -> Option<&'static str> {
    match sub {
        None | Some("check" | "live") => Some(AFTER_HELP),
        _ => None,
    }
}

/// The Japanese description of argument `id` of subcommand `sub`.
fn arg_help(sub: Option<&str>, id: &str) -> Option<&'static str> {
    Some(match (sub, id) {
        (_, "lang") => {
            "レポート・メッセージ・ヘルプの言語: ja（日本語）または en（英語）。既定: LC_ALL、LC_MESSAGES、\
             LANG から（ja で始まれば日本語）、それ以外は英語"
        }
        (Some("plan"), "inventory") => "サイトを記述したインベントリ（TOML）",
        (Some("plan"), "catalogs") => "使うカタログ（複数指定可。既定: 組み込みの 2 つ）",
        (Some("plan"), "services") => {
            "services ファイル: そのサービス名のポート番号がカタログのポート番号に代わります"
        }
        (Some("plan"), "format") => {
            "出力形式: text、json、csv（UTF-8、BOM 付き。Excel で読めます）、markdown（md）、\
             powershell（Windows サーバごとの New-NetFirewallRule）、netsh（netsh advfirewall の\
             バッチファイル）、nft（Unix サーバごとの nftables）。既定: text"
        }
        (Some("catalog"), "format") => "出力形式: text または json。既定: text",
        (_, "inventory") => {
            "インベントリ（TOML）: ホスト → 役割、機能、変更したポート。指定しない場合、役割は各ホストが\
             提供しているポートから推定します"
        }
        (_, "catalogs") => {
            "使うカタログ: 組み込みの名前（jp1-itdm、systemwalker-om）またはカタログファイル。\
             複数指定可。既定: 組み込みの 2 つ"
        }
        (_, "services") => {
            "services ファイル（/etc/services または Windows の drivers\\etc\\services の書式）: \
             そこにあるカタログのサービス名（例: jmnet、smtp_mpaosfb）はそのポート番号になります"
        }
        (_, "format") => {
            "レポートの形式: text（人向け）、json（1 つのオブジェクト）、jsonl（接続ごとに 1 つの\
             オブジェクト）、html（単独で表示できる 1 ページ）。既定: -o の拡張子（.json、.jsonl、.html）から、\
             それ以外は text"
        }
        (_, "output") => {
            "レポートを標準出力ではなく FILE に書き出します（途中の状態は見えません。- は標準出力）"
        }
        (_, "fail_on") => {
            "終了ステータスを 1 にする判定（カンマ区切り）、または none。既定: \
             blocked,wrong_direction,unexpected。--baseline があるときは悪くなったものだけ（新しい検出、\
             一致しなくなったルール）"
        }
        (_, "reply_timeout") => {
            "試行が no_reply/unanswered とみなされるまでに応答を待つ秒数。既定: 3"
        }
        (_, "baseline") => {
            "以前の JSON レポートと比較します: 新しい検出と一致しなくなったルールがあると終了ステータスは 1"
        }
        (_, "threads") => "ワーカースレッド数（既定: すべてのコア）",
        (_, "max_connections") => {
            "同時に追跡する接続の上限。超えると最も長く動きのない接続から早めに判定します\
             （レポートに数が出ます）。既定: 1000000"
        }
        (_, "max_conversations") => {
            "1 件ずつ報告する通信の上限。超えると新しいクライアントの接続はサーバポートごとに\
             クライアント 0.0.0.0 / :: にまとめます（フラッド、スキャン）。既定: 2500000"
        }
        (_, "quiet") => "標準エラー出力に進捗バーと要約を出しません",
        (_, "all") => {
            "テキストレポート: 問題ごとにまとめた検出の代わりに、すべての通信を 1 件ずつ理由とともに表示します"
        }
        (_, "utc") => "テキストレポート: 時刻を UTC で表示します（既定: ローカル時刻と UTC との差）",
        (_, "color") => {
            "テキストレポートの色: auto（端末なら。NO_COLOR があれば無効、CLICOLOR_FORCE で強制）、\
             always、never。既定: auto"
        }
        (Some("check"), "captures") => {
            "キャプチャファイル: pcap または pcapng。gzip、zstd、xz で圧縮されていても可（内容で判別）。\
             - は標準入力"
        }
        (Some("check"), "read") => {
            "キャプチャファイル（tcpdump と同じ指定方法。複数指定可。CAPTURE 引数と同じ）"
        }
        (Some("live"), "interface") => "キャプチャするインタフェース（例: SPAN/ミラーポート）",
        (Some("live"), "duration") => "この秒数で終了します（既定: SIGINT/SIGTERM まで）",
        (Some("live"), "bpf") => {
            "キャプチャフィルタ（既定: 有効なカタログのポートと ICMP/ICMPv6）"
        }
        (Some("live"), "interval") => "標準エラー出力の要約行の間隔（秒）。既定: 10",
        (Some("live"), "buffer_mb") => "カーネルのキャプチャバッファ（MiB）。既定: 64",
        (Some("live"), "checkpoint") => {
            "この秒数ごとにレポートを --output のファイルへ原子的に書きます（異常終了で失うのはその間隔まで）"
        }
        (Some("live"), "user") => {
            "インタフェースを開いたあとに切り替えるユーザ（既定: flowlint があればそれ、なければ nobody）"
        }
        (Some("live"), "no_drop_privileges") => {
            "root とすべてのケーパビリティを保持します（非推奨: live は信頼できない通信を解析します）"
        }
        (Some("live"), "no_seccomp") => {
            "seccomp のシステムコールフィルタを使いません（Linux。フィルタが許可しない呼び出しを必要とするカーネルや libc の調査用）"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (sub)command and argument, with its help text, of `cmd`.
    fn walk(cmd: &mut Command, path: &str, out: &mut Vec<(String, String)>) {
        cmd.build();
        if let Some(about) = cmd.get_about() {
            out.push((format!("{path} about"), about.to_string()));
        }
        for a in cmd.get_arguments() {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            out.push((format!("{path} --{}", a.get_id()), help));
        }
        for sub in cmd.get_subcommands_mut() {
            let name = format!("{path} {}", sub.get_name());
            walk(sub, &name, out);
        }
    }

    #[test]
    fn every_about_and_option_has_japanese_help_differing_from_the_english() {
        let (mut en, mut ja) = (Vec::new(), Vec::new());
        walk(&mut command(Lang::En), "flowlint", &mut en);
        walk(&mut command(Lang::Ja), "flowlint", &mut ja);
        assert!(ja.len() > 40, "{}", ja.len());
        for (what, text) in &ja {
            assert!(!text.is_ascii(), "no Japanese help for {what}: {text:?}");
            if let Some((_, english)) = en.iter().find(|(w, _)| w == what) {
                assert_ne!(text, english, "{what}");
            }
        }
    }

    #[test]
    fn japanese_help_parses_the_same_arguments() {
        let m = command(Lang::Ja)
            .try_get_matches_from(["flowlint", "check", "--lang", "ja", "-q", "a.pcap"])
            .unwrap();
        let (name, sub) = m.subcommand().unwrap();
        assert_eq!(name, "check");
        assert!(sub.get_flag("quiet"));
        let help = command(Lang::Ja)
            .try_get_matches_from(["flowlint", "check", "--help"])
            .unwrap_err()
            .to_string();
        assert!(
            help.contains("使い方:") && help.contains("オプション:"),
            "{help}"
        );
        assert!(!help.contains("Print help"), "{help}");
    }
}
