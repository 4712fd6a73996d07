//! The inverse of the readers: records to CSV with English headers, so that generated data round-trips.

use std::io::{self, Write};

use kefu_domain::{BillRecord, CustomerRecord};

/// Writes customers as a UTF-8 CSV file that [`read_customers`](crate::read_customers) reads back
/// unchanged. Phones are joined with `;`; absent optional values are empty cells.
pub fn write_customers_csv(records: &[CustomerRecord], w: impl Write) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "customer_no",
        "name",
        "phones",
        "address",
        "district",
        "service_type",
        "meter_no",
        "notice_preference",
        "fax",
        "email",
        "language",
        "remarks",
    ])?;
    let mut phones = String::new();
    for r in records {
        phones.clear();
        for (i, p) in r.phones.iter().enumerate() {
            if i > 0 {
                phones.push(';');
            }
            phones.push_str(p.as_str());
        }
        out.write_record([
            r.customer_no.as_str(),
            r.name.as_str(),
            &phones,
            r.address.as_str(),
            r.district.as_str(),
            r.service_type.as_str(),
            r.meter_no.as_ref().map_or("", |m| m.as_str()),
            r.notice_preference.as_str(),
            r.fax.as_ref().map_or("", |f| f.as_str()),
            r.email.as_deref().unwrap_or(""),
            r.language.as_str(),
            r.remarks.as_deref().unwrap_or(""),
        ])?;
    }
    out.flush()
}

/// Writes bills as a UTF-8 CSV file that [`read_bills`](crate::read_bills) reads back unchanged.
pub fn write_bills_csv(records: &[BillRecord], w: impl Write) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(["customer_no", "period", "amount", "due_date", "paid_on"])?;
    for r in records {
        let paid_on = r.paid_on.map(|d| d.to_string()).unwrap_or_default();
        out.write_record([
            r.customer_no.as_str(),
            &r.period.to_string(),
            &r.amount.to_yuan_string(),
            &r.due_date.to_string(),
            &paid_on,
        ])?;
    }
    out.flush()
}
