//! Code 128 (ISO/IEC 15417), code set B: printable ASCII. Enough for work-order numbers; any other
//! text gets no barcode (the QR code still carries it).

/// Bar and space widths in modules for each symbol value 0..=105, bar first, six elements of eleven
/// modules each.
const PATTERNS: [&[u8; 6]; 106] = [
    b"212222", b"222122", b"222221", b"121223", b"121322", b"131222", b"122213", b"122312",
    b"132212", b"221213", b"221312", b"231212", b"112232", b"122132", b"122231", b"113222",
    b"123122", b"123221", b"223211", b"221132", b"221231", b"213212", b"223112", b"312131",
    b"311222", b"321122", b"321221", b"312212", b"322112", b"322211", b"212123", b"212321",
    b"232121", b"111323", b"131123", b"131321", b"112313", b"132113", b"132311", b"211313",
    b"231113", b"231311", b"112133", b"112331", b"132131", b"113123", b"113321", b"133121",
    b"313121", b"211331", b"231131", b"213113", b"213311", b"213131", b"311123", b"311321",
    b"331121", b"312113", b"312311", b"332111", b"314111", b"221411", b"431111", b"111224",
    b"111422", b"121124", b"121421", b"141122", b"141221", b"112214", b"112412", b"122114",
    b"122411", b"142112", b"142211", b"241211", b"221114", b"413111", b"241112", b"134111",
    b"111242", b"121142", b"121241", b"114212", b"124112", b"124211", b"411212", b"421112",
    b"421211", b"212141", b"214121", b"412121", b"111143", b"111341", b"131141", b"114113",
    b"114311", b"411113", b"411311", b"113141", b"114131", b"311141", b"411131", b"211412",
    b"211214", b"211232",
];
const START_B: usize = 104;
const STOP: &[u8; 7] = b"2331112";
/// Longest text encoded; beyond it the symbol gets too wide for the sheet.
const MAX_LEN: usize = 32;

/// The element widths (bar, space, bar, ...) of `text` as Code 128 B with its check symbol, or
/// `None` if the text is empty, too long, or has a character outside printable ASCII.
pub(crate) fn encode(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() > MAX_LEN || !text.bytes().all(|b| (32..=126).contains(&b)) {
        return None;
    }
    let values: Vec<usize> = text.bytes().map(|b| usize::from(b - 32)).collect();
    let check = values
        .iter()
        .enumerate()
        .fold(START_B, |sum, (i, v)| sum + (i + 1) * v)
        % 103;
    let symbols = std::iter::once(START_B)
        .chain(values)
        .chain(std::iter::once(check));
    let mut widths: Vec<u8> = symbols
        .flat_map(|v| PATTERNS[v].iter().map(|d| d - b'0'))
        .collect();
    widths.extend(STOP.iter().map(|d| d - b'0'));
    Some(widths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_is_eleven_modules_with_an_even_bar_sum_and_unique() {
        for (v, p) in PATTERNS.iter().enumerate() {
            let widths: Vec<u8> = p.iter().map(|d| d - b'0').collect();
            assert_eq!(
                widths.iter().map(|&w| u32::from(w)).sum::<u32>(),
                11,
                "symbol {v}"
            );
            assert_eq!(
                (widths[0] + widths[2] + widths[4]) % 2,
                0,
                "symbol {v}: bars must sum even"
            );
            assert_eq!(
                PATTERNS.iter().filter(|q| *q == p).count(),
                1,
                "symbol {v} repeats"
            );
        }
    }

    #[test]
    fn encodes_with_start_check_and_stop() {
        // Check symbol: (104 + 1·48 + 2·42 + 3·42 + 4·17 + 5·18 + 6·19 + 7·35) mod 103 = 55.
        let w = encode("PJJ123C").expect("ascii");
        assert_eq!(w.len(), 6 * 9 + 7);
        assert_eq!(&w[..6], &[2, 1, 1, 2, 1, 4]);
        let check: Vec<u8> = PATTERNS[55].iter().map(|d| d - b'0').collect();
        assert_eq!(&w[6 * 8..6 * 9], check.as_slice());
        assert_eq!(&w[6 * 9..], &[2, 3, 3, 1, 1, 1, 2]);
    }

    #[test]
    fn refuses_what_set_b_cannot_hold() {
        assert_eq!(encode(""), None);
        assert_eq!(encode("工单1"), None);
        assert_eq!(encode("A\tB"), None);
        assert_eq!(encode(&"9".repeat(MAX_LEN + 1)), None);
        assert!(encode("GD2611260001").is_some());
    }
}
