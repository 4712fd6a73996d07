//! Renders sheets and reads the PDFs back with poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm)
//! and zbar-tools (zbarimg), which scripts/deps.sh installs for `make test`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use kefu_print::{
    Fonts, Labels, PrintError, SheetCustomer, SheetEvent, SheetFeedback, WorkOrderSheet, render,
};

static FONTS: LazyLock<Fonts> =
    LazyLock::new(|| Fonts::system().expect("a CJK font: scripts/deps.sh installs fonts-noto-cjk"));

/// Markup, escape and control syntax of typst, TeX, Markdown, HTML, JSON and printf, to be printed as is.
const HOSTILE: &str = r##"#set text(red) $x^2$ *b* _i_ [a](b) \n \ "q" 'q' <b>&amp;</b> {{x}} // /* @ref = % ~ ` #{ panic() } ${HOME}"##;

fn sheet(timeline_len: usize) -> WorkOrderSheet {
    let actors = ["张三", "李四", "王五", "客服中心 赵六"];
    let actions = ["受理", "派单", "接单", "到场", "处理中", "回访"];
    WorkOrderSheet {
        company: "宁波某某燃气集团有限公司 客户服务中心".into(),
        title: "服务工单".into(),
        number: "GD2611260001".into(),
        qr_payload: "https://kefu.example.cn/work-orders/GD2611260001".into(),
        created_at: "2026-11-26 09:15".into(),
        printed_at: "2026-11-26 10:02".into(),
        type_name: "燃气泄漏".into(),
        priority: "紧急".into(),
        status: "处理中".into(),
        channel: "电话 96777".into(),
        unit: Some("北仑分理处".into()),
        assignee: Some("张三".into()),
        customer: Some(SheetCustomer {
            name: "王小明".into(),
            customer_no: "NB00012345".into(),
            phones: vec!["13812345678".into(), "057487654321".into()],
            address: "浙江省宁波市北仑区新碶街道明州路 88 弄 6 号 502 室".into(),
        }),
        problem: format!(
            "客户来电反映厨房有明显燃气味，灶具已关闭，表前阀未关。\n已电话指导客户关闭表前阀、开窗通风、切勿开关电器。\n{HOSTILE}"
        ),
        fields: vec![
            ("气味程度".into(), "明显".into()),
            ("是否已关阀".into(), "否".into()),
            ("燃气表号".into(), "M-2021-778899".into()),
        ],
        due: vec![
            ("到场时限".into(), "2026-11-26 09:45".into()),
            ("完成时限".into(), "2026-11-26 13:15".into()),
        ],
        timeline: (0..timeline_len)
            .map(|i| SheetEvent {
                at: format!("2026-11-26 {:02}:{:02}", 9 + i / 60, i % 60),
                actor: actors[i % actors.len()].into(),
                action: actions[i % actions.len()].into(),
                note: if i == 7 {
                    HOSTILE.into()
                } else {
                    format!("第 {} 条记录：检查户内管道及接头，用检漏液复查。", i + 1)
                },
            })
            .collect(),
        feedback: Some(SheetFeedback {
            result: "已修复，复测无泄漏".into(),
            cause: "灶具软管老化开裂".into(),
            materials: "燃气专用软管 1.5 米 ×1，管卡 ×2".into(),
            attachments: vec!["现场照片1.jpg".into(), "检漏记录.pdf".into()],
        }),
        labels: Labels::zh_cn(),
    }
}

/// Runs `program args pdf` (with `-` after the file for pdftotext: the text to stdout).
fn tool(program: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(pdf)
        .args(if program == "pdftotext" {
            &["-"][..]
        } else {
            &[]
        })
        .output()
        .unwrap_or_else(|e| {
            panic!("{program}: {e} (scripts/deps.sh test installs poppler-utils and zbar-tools)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn write(pdf: &[u8], dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("sheet.pdf");
    std::fs::write(&path, pdf).expect("write");
    path
}

fn text(path: &Path) -> String {
    tool("pdftotext", &["-enc", "UTF-8"], path).replace(char::is_whitespace, "")
}

fn squeeze(s: &str) -> String {
    s.replace(char::is_whitespace, "")
}

#[test]
fn chinese_sheet_with_a_long_timeline_flows_onto_numbered_pages_with_searchable_text() {
    let pdf = render(&sheet(40), &FONTS).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&pdf, &dir);
    assert!(pdf.starts_with(b"%PDF-"));

    let info = tool("pdfinfo", &[], &path);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .expect("Pages")
        .trim()
        .parse()
        .expect("n");
    assert!(pages >= 2, "{pages} pages for 40 timeline entries");
    assert!(info.contains("A4"), "{info}");
    assert!(info.contains("服务工单 GD2611260001"), "title: {info}");

    let all = tool("pdftotext", &["-enc", "UTF-8"], &path);
    let text = squeeze(&all);
    for wanted in [
        "宁波某某燃气集团有限公司客户服务中心",
        "服务工单",
        "GD2611260001",
        "燃气泄漏",
        "北仑分理处",
        "张三",
        "王小明",
        "NB00012345",
        "13812345678、057487654321",
        "客户来电反映厨房有明显燃气味",
        "燃气表号",
        "完成时限",
        "2026-11-2613:15",
        "第40条记录",
        "灶具软管老化开裂",
        "检漏记录.pdf",
        "客户签字",
        "处理人签字",
        &format!("第1页/共{pages}页"),
        &format!("第{pages}页/共{pages}页"),
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in the text:\n{all}");
    }
    assert!(
        text.matches(&squeeze(HOSTILE)).count() >= 2,
        "the hostile string, verbatim, twice:\n{all}"
    );
    // The timeline's header row repeats on the next page.
    let page2 = squeeze(&tool(
        "pdftotext",
        &["-enc", "UTF-8", "-f", "2", "-l", "2"],
        &path,
    ));
    assert!(page2.contains("时间操作人操作说明"), "{page2}");

    let fonts = tool("pdffonts", &[], &path);
    let embedded: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!embedded.is_empty(), "{fonts}");
    for line in &embedded {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // name type encoding emb sub uni object ID: embedded, subset and with a ToUnicode map.
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{fonts}");
        assert!(cols[0].contains("NotoSans"), "{fonts}");
    }
    assert!(
        pdf.windows(10).any(|w| w == b"/FontFile3") || pdf.windows(10).any(|w| w == b"/FontFile2")
    );
    let font_file = std::fs::metadata("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
        .expect("font")
        .len();
    assert!(
        (pdf.len() as u64) < font_file / 20,
        "{} bytes of PDF against a {font_file}-byte font",
        pdf.len()
    );
    eprintln!("test sheet: {} pages, {} bytes", pages, pdf.len());
}

#[test]
fn qr_code_and_barcode_scan_back_to_the_payload_and_the_number() {
    let pdf = render(&sheet(3), &FONTS).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&pdf, &dir);
    let png = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "200",
            "-gray",
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
        ])
        .arg(&path)
        .arg(&png)
        .status()
        .expect("pdftoppm (poppler-utils)");
    assert!(status.success());
    let codes = tool("zbarimg", &["--quiet"], &dir.path().join("page.png"));
    let mut codes: Vec<&str> = codes.lines().collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "CODE-128:GD2611260001",
            "QR-Code:https://kefu.example.cn/work-orders/GD2611260001"
        ]
    );
}

#[test]
fn english_labels() {
    let mut sheet = sheet(2);
    sheet.labels = Labels::en();
    sheet.title = "Service work order".into();
    sheet.company = "Ningbo Gas Group — Customer Service Centre".into();
    let pdf = render(&sheet, &FONTS).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = text(&write(&pdf, &dir));
    for wanted in [
        "Serviceworkorder",
        "Workorderno.",
        "GD2611260001",
        "Priority",
        "Customersignature",
        "Handlersignature",
        "Page1of1",
        "燃气泄漏",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in {text}");
    }
    assert!(!text.contains("处理人签字"));
}

#[test]
fn a_bare_sheet_prints_placeholders_and_blank_feedback_rows() {
    let mut sheet = sheet(0);
    sheet.customer = None;
    sheet.feedback = None;
    sheet.unit = None;
    sheet.assignee = None;
    sheet.fields.clear();
    sheet.due.clear();
    sheet.number = "工单-1".into(); // no Code 128 for non-ASCII; the QR code still carries it
    let pdf = render(&sheet, &FONTS).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&pdf, &dir);
    let text = text(&path);
    for wanted in [
        "未关联客户",
        "暂无记录",
        "处理单位—",
        "处理人—",
        "处理结果",
        "第1页/共1页",
        "工单-1",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in {text}");
    }
    assert!(
        !text.contains("附加信息"),
        "no custom-field section without fields"
    );
}

#[test]
fn control_characters_and_emoji_neither_break_the_sheet_nor_the_text_around_them() {
    let mut sheet = sheet(1);
    sheet.problem = "前\u{0}\u{7}\u{1b}[31m后\r\n下一行\t制表 🔥 燃气".into();
    sheet.timeline[0].note = "\u{202e}反向\u{202c} ZWJ\u{200d}".into();
    let pdf = render(&sheet, &FONTS).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = text(&write(&pdf, &dir));
    // Noto CJK has no emoji: it prints as an empty box with no text behind it, the rest is intact.
    assert!(
        text.replace('🔥', "").contains("前[31m后下一行制表燃气"),
        "{text}"
    );
    assert!(
        text.contains("反向ZWJ\u{200d}"),
        "in logical order, no override: {text}"
    );
}

#[test]
fn renders_concurrently_from_many_threads_with_one_fonts() {
    let fonts = FONTS.clone();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let fonts = fonts.clone();
            std::thread::spawn(move || {
                let mut sheet = sheet(5 + i);
                sheet.number = format!("GD261126000{i}");
                render(&sheet, &fonts).expect("render")
            })
        })
        .collect();
    let mut first = sheet(5);
    first.number = "GD2611260000".into();
    let alone = render(&first, &fonts).expect("render");
    for (i, handle) in handles.into_iter().enumerate() {
        let pdf = handle.join().expect("thread");
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(text(&write(&pdf, &dir)).contains(&format!("GD261126000{i}")));
        if i == 0 {
            assert_eq!(pdf, alone, "the same sheet gives the same bytes");
        }
    }
}

#[test]
fn missing_or_unusable_fonts_are_clear_errors() {
    let missing = PathBuf::from("/nonexistent/kefu-fonts");
    let err = Fonts::load(std::slice::from_ref(&missing)).expect_err("missing directory");
    assert!(
        matches!(err, PrintError::FontPath { ref path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("/nonexistent/kefu-fonts"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("broken.ttf"), b"not a font").expect("write");
    std::fs::write(dir.path().join("readme.txt"), b"nothing").expect("write");
    let err = Fonts::load(&[dir.path().to_path_buf()]).expect_err("no fonts");
    assert!(matches!(err, PrintError::NoFonts { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("apt-get install fonts-noto-cjk")
            && message.contains(&dir.path().display().to_string()),
        "{message}"
    );

    let err = Fonts::load(&[]).expect_err("nothing named");
    assert!(
        err.to_string().contains("(looked in no path given)")
            && err.to_string().contains("fonts-noto-cjk"),
        "{err}"
    );
}

#[test]
fn fonts_load_from_a_directory_and_prefer_simplified_chinese() {
    let fonts =
        Fonts::load(&[PathBuf::from("/usr/share/fonts/opentype/noto")]).expect("noto directory");
    assert_eq!(
        fonts.families().first().map(String::as_str),
        Some("Noto Sans CJK SC")
    );
    assert_eq!(
        FONTS.families().first().map(String::as_str),
        Some("Noto Sans CJK SC")
    );
}

#[test]
fn a_long_token_wraps_inside_the_page_instead_of_running_off_it() {
    let mut sheet = sheet(1);
    let token = "A".repeat(300);
    sheet.problem = token.clone();
    sheet.timeline[0].note = "x".repeat(200);
    let pdf = render(&sheet, &FONTS).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&pdf, &dir);
    assert!(
        text(&path).contains(&token),
        "the token, whole, in the text"
    );
    // Every word's box ends inside the 15 mm right margin of the 595 pt wide page.
    let boxes = tool("pdftotext", &["-bbox"], &path);
    let right = boxes
        .split("xMax=\"")
        .skip(1)
        .map(|rest| {
            rest.split('"')
                .next()
                .expect("quote")
                .parse::<f64>()
                .expect("number")
        })
        .fold(0.0, f64::max);
    assert!(
        right > 500.0 && right < 595.0 - 42.0,
        "rightmost word ends at {right} pt"
    );
}
