//! Whole files in, records and errors out. Each test renders what was read as text and compares it with
//! an expect-test snapshot (`UPDATE_EXPECT=1 cargo test -p kefu-import` rewrites them).

use expect_test::{Expect, expect};
use kefu_domain::{AreaCode, BillRecord, CustomerRecord};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};

use crate::*;

fn customers(bytes: &[u8], format: FileFormat) -> Result<Parsed<CustomerRecord>, FileError> {
    read_customers(bytes, format, &AreaCode::default(), |_, _| {})
}

fn bills(bytes: &[u8], format: FileFormat) -> Result<Parsed<BillRecord>, FileError> {
    read_bills(bytes, format, |_, _| {})
}

fn show_customer(c: &CustomerRecord) -> String {
    let phones: Vec<&str> = c.phones.iter().map(|p| p.as_str()).collect();
    let mut s = format!(
        "{} {} [{}] {} {} {} {} {}",
        c.customer_no.as_str(),
        c.name.as_str(),
        phones.join(" "),
        c.address.as_str(),
        c.district.as_str(),
        c.service_type,
        c.notice_preference,
        c.language
    );
    if let Some(m) = &c.meter_no {
        s += &format!(" meter={}", m.as_str());
    }
    if let Some(f) = &c.fax {
        s += &format!(" fax={}", f.as_str());
    }
    if let Some(e) = &c.email {
        s += &format!(" email={e}");
    }
    if let Some(r) = &c.remarks {
        s += &format!(" remarks={r:?}");
    }
    s
}

fn show_bill(b: &BillRecord) -> String {
    let paid = b
        .paid_on
        .map_or("unpaid".to_string(), |d| format!("paid {d}"));
    format!(
        "{} {} {} due {} {paid}",
        b.customer_no.as_str(),
        b.period,
        b.amount.to_yuan_string(),
        b.due_date
    )
}

fn render<T>(result: Result<Parsed<T>, FileError>, show: impl Fn(&T) -> String) -> String {
    match result {
        Err(e) => format!("file error: {e}\n"),
        Ok(parsed) => {
            let mut out = format!("{} rows, {} bad\n", parsed.total_rows, parsed.bad_rows());
            for (line, record) in &parsed.records {
                out += &format!("{line}: {}\n", show(record));
            }
            for e in &parsed.errors {
                out += &format!("{e}\n");
            }
            out
        }
    }
}

fn check_customers(csv: &str, expect: Expect) {
    expect.assert_eq(&render(
        customers(csv.as_bytes(), FileFormat::Csv),
        show_customer,
    ));
}

fn check_bills(csv: &str, expect: Expect) {
    expect.assert_eq(&render(bills(csv.as_bytes(), FileFormat::Csv), show_bill));
}

const HEADER: &str = "customer_no,name,phones,address,district,service_type";

#[test]
fn good_customers_csv() {
    check_customers(
        "customer_no,name,phones,address,district,service_type,meter_no,notice_preference,fax,email,language,remarks
nb-0001,张三,13812345678,海曙区中山西路1号,海曙区,pipeline,M001,,,,,
NB-0002,宁波某某餐饮有限公司,\"0574-87654321; 138 1234 5679, 87654321\",江北区人民路2号,江北区,Bottled,,fax,87650000,,en,\"需开发票, 周末不送\"
NB-0003,  李四  ,+86 139 0000 0000,鄞州区天童南路3号,鄞州区,pipeline,,email,,li.si@example.com,zh-CN,
",
        expect![[r#"
            3 rows, 0 bad
            2: NB-0001 张三 [13812345678] 海曙区中山西路1号 海曙区 pipeline sms zh-CN meter=M001
            3: NB-0002 宁波某某餐饮有限公司 [057487654321 13812345679] 江北区人民路2号 江北区 bottled fax en fax=057487650000 remarks="需开发票, 周末不送"
            4: NB-0003 李四 [13900000000] 鄞州区天童南路3号 鄞州区 pipeline email zh-CN email=li.si@example.com
        "#]],
    );
}

#[test]
fn chinese_headers_and_keywords() {
    check_customers(
        " 户号 ,户名,电话,地址,区,用气类型,表号,通知方式,传真,邮箱,语言,备注
NB-0001,张三,13812345678,海曙区中山西路1号,海曙区,管道气,,短信,,,中文,
NB-0002,李四,13812345679,江北区人民路2号,江北区,瓶装气,,传真,0574-87650000,,英文,
NB-0003,王五,13812345670,鄞州区天童南路3号,鄞州区,管道,,邮件,,wang@example.com,,
",
        expect![[r#"
            3 rows, 0 bad
            2: NB-0001 张三 [13812345678] 海曙区中山西路1号 海曙区 pipeline sms zh-CN
            3: NB-0002 李四 [13812345679] 江北区人民路2号 江北区 bottled fax en fax=057487650000
            4: NB-0003 王五 [13812345670] 鄞州区天童南路3号 鄞州区 pipeline email zh-CN email=wang@example.com
        "#]],
    );
    // Other spellings of the same header: 姓名 for 户名, 区域 for 区, 气种 for 用气类型, any case, blanks.
    check_customers(
        "Customer No,NAME,Phones,Address,District,Service-Type\nNB-0001,张三,13812345678,海曙区中山西路1号,海曙区,pipeline\n",
        expect![[r#"
            1 rows, 0 bad
            2: NB-0001 张三 [13812345678] 海曙区中山西路1号 海曙区 pipeline sms zh-CN
        "#]],
    );
    check_customers(
        "户号,姓名,电话,地址,区域,气种\nNB-0001,张三,13812345678,海曙区中山西路1号,海曙区,pipeline\n",
        expect![[r#"
            1 rows, 0 bad
            2: NB-0001 张三 [13812345678] 海曙区中山西路1号 海曙区 pipeline sms zh-CN
        "#]],
    );
}

const CHINESE_FILE: &str = "户号,户名,电话,地址,区域,气种\r\nNB-0001,张三,13812345678；87654321,海曙区中山西路1号,海曙区,管道气\r\n";

#[test]
fn encodings() {
    let utf8 = customers(CHINESE_FILE.as_bytes(), FileFormat::Csv).unwrap();
    assert_eq!(utf8.records.len(), 1);
    assert!(utf8.errors.is_empty());

    let bom = [b"\xEF\xBB\xBF".as_slice(), CHINESE_FILE.as_bytes()].concat();
    assert_eq!(customers(&bom, FileFormat::Csv).unwrap(), utf8);

    let (gbk, _, unmappable) = encoding_rs::GBK.encode(CHINESE_FILE);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the test needs bytes that are not UTF-8"
    );
    assert_eq!(customers(&gbk, FileFormat::Csv).unwrap(), utf8);

    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(CHINESE_FILE.encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    assert_eq!(customers(&utf16, FileFormat::Csv).unwrap(), utf8);

    for binary in [
        b"\x00\x01\x02\x03".as_slice(),
        b"customer_no\xFF\xFF\xFF\n",
        b"\xEF\xBB\xBFcustomer_no\xC3\x28\n",
    ] {
        assert_eq!(
            customers(binary, FileFormat::Csv),
            Err(FileError::NotText),
            "{binary:?}"
        );
    }
}

#[test]
fn file_errors() {
    let cases = [
        ("", "empty"),
        ("\n\n  \n,,,\n", "blank"),
        (
            "NB-0001,张三,13812345678,海曙区中山西路1号,海曙区,pipeline\n",
            "data without header",
        ),
        (
            "customer_no,name,phones\nNB-0001,张三,13812345678\n",
            "missing",
        ),
        (
            "customer_no,name,phones,adress,district,service_type,Remark\n",
            "typos",
        ),
        (
            "customer_no,name,phones,address,district,service_type,户号,电话\n",
            "duplicates",
        ),
        (
            "户号,name,phone,地址,district,service_type,customer_no\n",
            "all at once",
        ),
    ];
    let mut out = String::new();
    for (csv, what) in cases {
        let error = customers(csv.as_bytes(), FileFormat::Csv).unwrap_err();
        out += &format!("{what}: {error}\n");
    }
    let error = bills(b"customer_no,amount\n", FileFormat::Csv).unwrap_err();
    out += &format!("bills: {error}\n");
    expect![[r#"
        empty: the file is empty: it has no header row
        blank: the file is empty: it has no header row
        data without header: line 1 is not a header row (none of its cells names a known column): "NB-0001", "张三", "13812345678", "海曙区中山西路1号", "海曙区", "pipeline"
        missing: bad header row: missing required columns: address (地址), district (区域/区), service_type (气种/用气类型)
        typos: bad header row: missing required columns: address (地址); unknown columns: "adress", "Remark"
        duplicates: bad header row: columns given twice: customer_no = 户号, phones = 电话
        all at once: bad header row: missing required columns: phones (电话); unknown columns: "phone"; columns given twice: 户号 = customer_no
        bills: bad header row: missing required columns: period (账期), due_date (缴费截止日/截止日期)
    "#]]
    .assert_eq(&out);
}

#[test]
fn every_kind_of_bad_customer_cell() {
    let long_name = "张".repeat(61);
    let long_remarks = "x".repeat(501);
    let long_district = "区".repeat(21);
    let csv = format!(
        "{HEADER},meter_no,notice_preference,fax,email,language,remarks
NB-0001,张三,13812345678,海曙区中山西路1号,海曙区,pipeline,,,,,,
123,,,,,,,,,,,
NB 0003,{long_name},12345; abc,海曙区,{long_district},coal,,pigeon,,,klingon,{long_remarks}
NB-0004,王五,13812345678,海曙区,海曙区,pipeline,,fax,,,,
NB-0005,赵六,13812345678,海曙区,海曙区,pipeline,,email,,not-an-email,,
NB-0006,钱七,13812345678,海曙区,海曙区,pipeline,M-{long_remarks},,0574-123,,,
,,,,,,,,,,,
nb-0001,张三,13812345678,海曙区中山西路1号,海曙区,pipeline,,,,,,
NB-0009,孙八,13812345678,海曙区,海曙区,pipeline,,,,,,,stray
NB-0010,周九,\"13812345678
87654321\",海曙区,海曙区,bottled,,,,,,
NB-0011,吴十,13812345678,\"海曙区\u{7}\",海曙区,bottled
NB-0005,郑一,13812345678,海曙区,海曙区,pipeline,,,,,,
"
    );
    check_customers(
        &csv,
        expect![[r#"
            11 rows, 9 bad
            2: NB-0001 张三 [13812345678] 海曙区中山西路1号 海曙区 pipeline sms zh-CN
            11: NB-0010 周九 [13812345678 057487654321] 海曙区 海曙区 bottled sms zh-CN
            line 3, customer_no: a customer number has 4 to 20 characters
            line 3, name: must not be empty
            line 3, phones: at least one phone number is required
            line 3, address: must not be empty
            line 3, district: must not be empty
            line 3, service_type: must not be empty
            line 4, customer_no: a customer number holds only letters, digits and dashes
            line 4, name: must be at most 60 characters (got 61)
            line 4, phones: "12345": a mobile number has 11 digits and starts with 13-19; "abc": invalid character 'a' in phone number
            line 4, district: must be at most 20 characters (got 21)
            line 4, service_type: must be one of: bottled, pipeline (got "coal")
            line 4, notice_preference: must be one of: voice, fax, sms, email (got "pigeon")
            line 4, language: must be one of: zh-CN, en (got "klingon")
            line 4, remarks: must be at most 500 characters (got 501)
            line 5, fax: required when the notice preference is fax
            line 6, email: not an e-mail address
            line 7, meter_no: must be at most 32 characters (got 503)
            line 7, fax: a landline number with area code has 10-12 digits, e.g. 0574-87654321
            line 9, customer_no: duplicate of line 2
            line 10, column 13: a value in a column without a header
            line 13, address: must not contain control characters
            line 14, customer_no: duplicate of line 6
        "#]],
    );
}

#[test]
fn hostile_strings_are_just_text() {
    check_customers(
        &format!(
            "{HEADER},remarks
NB-0001,'; DROP TABLE customers; --,13812345678,<script>alert(1)</script>,海曙区,pipeline,\"\"\"; DELETE FROM bills; --\"
NB-0002,<img src=x onerror=alert(1)>,13812345678,=HYPERLINK(\"\"http://x\"\"),海曙区,pipeline,{{{{7*7}}}} ${{jndi:ldap://x}}
"
        ),
        expect![[r#"
            2 rows, 0 bad
            2: NB-0001 '; DROP TABLE customers; -- [13812345678] <script>alert(1)</script> 海曙区 pipeline sms zh-CN remarks="\"; DELETE FROM bills; --"
            3: NB-0002 <img src=x onerror=alert(1)> [13812345678] =HYPERLINK(""http://x"") 海曙区 pipeline sms zh-CN remarks="{{7*7}} ${jndi:ldap://x}"
        "#]],
    );
}

#[test]
fn tabs_and_blank_lines() {
    check_customers(
        "\n\ncustomer_no\tname\tphones\taddress\tdistrict\tservice_type\n\nNB-0001\t张三\t13812345678, 87654321\t海曙区\t海曙区\tpipeline\n\t\t\t\t\t\n\nNB-0002\t李四\t1381234567\t海曙区\t海曙区\tpipeline",
        expect![[r#"
            2 rows, 1 bad
            5: NB-0001 张三 [13812345678 057487654321] 海曙区 海曙区 pipeline sms zh-CN
            line 8, phones: "1381234567": a mobile number has 11 digits and starts with 13-19
        "#]],
    );
}

#[test]
fn good_and_bad_bills() {
    check_bills(
        "户号,账期,金额,截止日期,缴费日期
NB-0001,2026-10,123.45,2026-11-20,2026-11-02
NB-0001,2026/11,\"1,234.5\",2026/12/20,
NB-0002,202610,￥8.8,20261120,
NB-0003,2026年9月,0,2026年10月20日,2026-10-20 14:31:00
NB-0004,2026-10-01,-5.00,2026/11/20 0:00,
NB-0005,2026-13,1.234,2026-02-30,yesterday
NB-0006,,,,
nb-0001,2026-10,99.00,2026-11-20,
NB-0007,2026-10,1e3,11/20/2026,
NB-0008,1999-12,abc,1999-12-31,2101-01-01
",
        expect![[r#"
            10 rows, 5 bad
            2: NB-0001 2026-10 123.45 due 2026-11-20 paid 2026-11-02
            3: NB-0001 2026-11 1234.50 due 2026-12-20 unpaid
            4: NB-0002 2026-10 8.80 due 2026-11-20 unpaid
            5: NB-0003 2026-09 0.00 due 2026-10-20 paid 2026-10-20
            6: NB-0004 2026-10 -5.00 due 2026-11-20 unpaid
            line 7, 账期: a billing period is YYYY-MM between 2000-01 and 2100-12
            line 7, 金额: not an amount in yuan: "1.234"
            line 7, 截止日期: no such date: "2026-02-30"
            line 7, 缴费日期: not a date (YYYY-MM-DD): "yesterday"
            line 8, 账期: must not be empty
            line 8, 金额: must not be empty
            line 8, 截止日期: must not be empty
            line 9, 账期: duplicate of line 2
            line 10, 金额: not an amount in yuan: "1e3"
            line 10, 截止日期: not a date (YYYY-MM-DD): "11/20/2026"
            line 11, 账期: a billing period is YYYY-MM between 2000-01 and 2100-12
            line 11, 金额: not an amount in yuan: "abc"
            line 11, 截止日期: date out of range (2000 to 2100): 1999-12-31
            line 11, 缴费日期: date out of range (2000 to 2100): 2101-01-01
        "#]],
    );
    check_bills(
        "customer_no,period,amount,due_date\nNB-0001,2026-10,1,2026-11-20\n",
        expect![[r#"
            1 rows, 0 bad
            2: NB-0001 2026-10 1.00 due 2026-11-20 unpaid
        "#]],
    );
}

fn customers_sheet(ws: &mut Worksheet) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (col, header) in ["户号", "户名", "电话", "地址", "区域", "气种", "备注"]
        .into_iter()
        .enumerate()
    {
        ws.write_string(1, col as u16, header)?;
    }
    // Row 3: numbers where the billing system had digits.
    ws.write_number(2, 0, 10023456.0)?;
    ws.write_string(2, 1, "张三")?;
    ws.write_number(2, 2, 13812345678.0)?;
    ws.write_string(2, 3, "海曙区中山西路1号")?;
    ws.write_string(2, 4, "海曙区")?;
    ws.write_string(2, 5, "管道气")?;
    ws.write_boolean(2, 6, true)?;
    // Row 5 (row 4 left blank): a bad one.
    ws.write_string(4, 0, "NB-0002")?;
    ws.write_string(4, 1, "李四")?;
    ws.write_string(4, 2, "13812345679；0574-87654321")?;
    ws.write_string(4, 3, "江北区人民路2号")?;
    ws.write_string(4, 4, "江北区")?;
    ws.write_number(4, 5, 3.0)?;
    Ok(())
}

fn bills_sheet(ws: &mut Worksheet) -> Result<(), rust_xlsxwriter::XlsxError> {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let month = Format::new().set_num_format("yyyy\"年\"m\"月\"");
    for (col, header) in ["customer_no", "period", "amount", "due_date", "paid_on"]
        .into_iter()
        .enumerate()
    {
        ws.write_string(0, col as u16, header)?;
    }
    let amounts = [123.45, 0.1 + 0.2, 12.3 * 3.45, 1.005, 88.0, -12.5];
    for (i, amount) in amounts.into_iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, format!("NB-000{row}"))?;
        if i % 2 == 0 {
            ws.write_datetime_with_format(row, 1, ExcelDateTime::from_ymd(2026, 10, 1)?, &month)?;
        } else {
            ws.write_string(row, 1, "2026-10")?;
        }
        ws.write_number(row, 2, amount)?;
        ws.write_datetime_with_format(row, 3, ExcelDateTime::from_ymd(2026, 11, 20)?, &date)?;
        if i == 1 {
            ws.write_datetime_with_format(
                row,
                4,
                ExcelDateTime::parse_from_str("2026-11-03 09:30:00")?,
                &date,
            )?;
        }
        if i == 2 {
            ws.write_string(row, 4, "2026/11/4")?;
        }
    }
    // Bad: a number that is no date, an amount as text with 3 decimals, a time of day as period.
    ws.write_string(7, 0, "NB-0007")?;
    ws.write_datetime_with_format(
        7,
        1,
        ExcelDateTime::from_hms(9, 30, 0)?,
        &Format::new().set_num_format("hh:mm"),
    )?;
    ws.write_string(7, 2, "1.234")?;
    ws.write_number(7, 3, 46346.0)?;
    ws.write_number(7, 4, 20261120.0)?;
    Ok(())
}

fn xlsx(fill: impl Fn(&mut Worksheet) -> Result<(), rust_xlsxwriter::XlsxError>) -> Vec<u8> {
    let mut workbook = Workbook::new();
    fill(workbook.add_worksheet()).unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn xlsx_cells_numbers_and_dates() {
    let bytes = xlsx(customers_sheet);
    assert_eq!(
        FileFormat::detect("upload.bin", &bytes),
        Ok(FileFormat::Xlsx)
    );
    expect![[r#"
        2 rows, 1 bad
        3: 10023456 张三 [13812345678] 海曙区中山西路1号 海曙区 pipeline sms zh-CN remarks="TRUE"
        line 5, 气种: must be one of: bottled, pipeline (got "3")
    "#]]
    .assert_eq(&render(customers(&bytes, FileFormat::Xlsx), show_customer));

    let bytes = xlsx(bills_sheet);
    expect![[r#"
        7 rows, 1 bad
        2: NB-0001 2026-10 123.45 due 2026-11-20 unpaid
        3: NB-0002 2026-10 0.30 due 2026-11-20 paid 2026-11-03
        4: NB-0003 2026-10 42.44 due 2026-11-20 paid 2026-11-04
        5: NB-0004 2026-10 1.01 due 2026-11-20 unpaid
        6: NB-0005 2026-10 88.00 due 2026-11-20 unpaid
        7: NB-0006 2026-10 -12.50 due 2026-11-20 unpaid
        line 8, period: the cell holds a time or duration, not a date
        line 8, amount: not an amount in yuan: "1.234"
        line 8, due_date: a number where a date is expected: 46346 (write YYYY-MM-DD or format the cell as a date)
    "#]]
    .assert_eq(&render(bills(&bytes, FileFormat::Xlsx), show_bill));
}

#[test]
fn xlsx_file_errors() {
    let empty = xlsx(|_| Ok(()));
    let header_only = xlsx(|ws| {
        ws.write_string(0, 0, "customer_no")?;
        ws.write_string(0, 1, "amount")?;
        Ok(())
    });
    let mut out = String::new();
    for (what, bytes) in [
        ("empty sheet", empty.as_slice()),
        ("bad header", &header_only),
        ("not a zip", b"PK\x03\x04 this is not really a zip"),
        ("legacy xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0"),
    ] {
        out += &format!("{what}: {}\n", bills(bytes, FileFormat::Xlsx).unwrap_err());
    }
    out += &format!(
        "xlsx as csv: {}\n",
        bills(&empty, FileFormat::Csv).unwrap_err()
    );
    expect![[r#"
        empty sheet: sheet "Sheet1" is empty: it has no header row
        bad header: bad header row: missing required columns: period (账期), due_date (缴费截止日/截止日期)
        not a zip: cannot open the workbook: Zip error: invalid Zip archive: Could not find EOCD
        legacy xls: legacy Excel 97-2003 (.xls) files are not supported: save the sheet as .xlsx or CSV
        xlsx as csv: this is a zip file (an .xlsx workbook?), not CSV: upload it as .xlsx
    "#]]
    .assert_eq(&out);
}

#[test]
fn formats_and_kinds() {
    assert_eq!(
        FileFormat::detect("a.CSV", b"customer_no"),
        Ok(FileFormat::Csv)
    );
    assert_eq!(
        FileFormat::detect("a.xlsx", b"customer_no"),
        Ok(FileFormat::Xlsx)
    );
    assert_eq!(
        FileFormat::detect("no-extension", b"PK\x03\x04"),
        Ok(FileFormat::Xlsx)
    );
    assert_eq!(
        FileFormat::detect("a.xls", b"customer_no"),
        Err(FileError::LegacyXls)
    );
    assert_eq!(
        FileFormat::detect("a.csv", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
        Err(FileError::LegacyXls)
    );
    assert_eq!("XLSX".parse(), Ok(FileFormat::Xlsx));
    assert!("xls".parse::<FileFormat>().is_err());
    assert_eq!("bills".parse(), Ok(ImportKind::Bills));
    assert_eq!(" Customers ".parse(), Ok(ImportKind::Customers));
    assert!("payments".parse::<ImportKind>().is_err());
    assert_eq!(
        ImportKind::Bills.columns()[3],
        (["due_date", "缴费截止日", "截止日期"].as_slice(), true)
    );
    let error = RowError {
        line: 3,
        column: "电话".into(),
        reason: "x".into(),
    };
    assert_eq!(error.to_string(), "line 3, 电话: x");
    assert_eq!(
        serde_json::to_string(&error).unwrap(),
        r#"{"line":3,"column":"电话","reason":"x"}"#
    );
}

#[test]
fn generated_data_round_trips() {
    let customers_in = sample_customers(2_000);
    let mut csv = Vec::new();
    write_customers_csv(&customers_in, &mut csv).unwrap();
    let parsed = customers(&csv, FileFormat::Csv).unwrap();
    assert_eq!(parsed.errors, []);
    let customers_out: Vec<CustomerRecord> = parsed.records.into_iter().map(|(_, r)| r).collect();
    assert_eq!(customers_out, customers_in);
    assert!(
        customers_in
            .iter()
            .any(|c| c.remarks.as_deref().is_some_and(|r| r.contains('"')))
    );
    assert!(
        customers_in
            .iter()
            .any(|c| c.fax.is_some() && c.email.is_none())
    );
    assert!(customers_in.iter().any(|c| c.phones.len() == 2));

    let bills_in = sample_bills(2_000);
    let mut csv = Vec::new();
    write_bills_csv(&bills_in, &mut csv).unwrap();
    let parsed = bills(&csv, FileFormat::Csv).unwrap();
    assert_eq!(parsed.errors, []);
    let bills_out: Vec<BillRecord> = parsed.records.into_iter().map(|(_, r)| r).collect();
    assert_eq!(bills_out, bills_in);
    assert!(bills_in.iter().any(|b| b.paid_on.is_none()));
}

#[test]
fn progress_is_reported_up_to_the_total() {
    let mut csv = Vec::new();
    write_customers_csv(&sample_customers(3_000), &mut csv).unwrap();
    csv.extend_from_slice(b"\n\n");
    let mut calls = Vec::new();
    let parsed = read_customers(
        &csv,
        FileFormat::Csv,
        &AreaCode::default(),
        |done, total| calls.push((done, total)),
    )
    .unwrap();
    assert_eq!(parsed.total_rows, 3_000);
    assert_eq!(
        calls,
        [(0, 3_002), (1_024, 3_002), (2_048, 3_002), (3_002, 3_002)]
    );

    let bytes = xlsx(bills_sheet);
    let mut calls = Vec::new();
    read_bills(&bytes, FileFormat::Xlsx, |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert_eq!(calls, [(0, 7), (7, 7)]);
}

#[test]
fn unnamed_columns_and_huge_cells() {
    let huge = "9".repeat(10_000);
    check_bills(
        &format!(
            "customer_no,,period,amount,due_date,
NB-0001,,2026-10,1.00,2026-11-20,
NB-0002,x,2026-10,1.00,2026-11-20,,
NB-0003,,{huge},1.00,2026-11-20,,,y
"
        ),
        expect![[r#"
            3 rows, 2 bad
            2: NB-0001 2026-10 1.00 due 2026-11-20 unpaid
            line 3, column 2: a value in a column without a header
            line 4, period: not a billing period (YYYY-MM): "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999…
            line 4, column 8: a value in a column without a header
        "#]],
    );
}
