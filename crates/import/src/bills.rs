//! A bills file: one month's bill of one customer per row.

use kefu_domain::{BillRecord, CustomerNo, Period};

use crate::sheet::{Column, Kind, RowCtx};

const CUSTOMER_NO: usize = 0;
const PERIOD: usize = 1;
const AMOUNT: usize = 2;
const DUE_DATE: usize = 3;
const PAID_ON: usize = 4;

pub(crate) const COLUMNS: &[Column] = &[
    Column::required(&["customer_no", "户号"]),
    Column::required(&["period", "账期"]),
    Column::required(&["amount", "金额"]),
    Column::required(&["due_date", "缴费截止日", "截止日期"]),
    Column::optional(&["paid_on", "缴费日期"]),
];

pub(crate) struct Bills;

impl Kind for Bills {
    type Record = BillRecord;
    type Key = (CustomerNo, Period);
    const COLUMNS: &'static [Column] = COLUMNS;
    const KEY_COLUMN: usize = PERIOD;

    fn parse(&self, row: &mut RowCtx<'_>) -> (Option<(CustomerNo, Period)>, Option<BillRecord>) {
        let customer_no = row.required(CUSTOMER_NO, CustomerNo::parse);
        let period = required(row, PERIOD, row.cell(PERIOD).period());
        let amount = required(row, AMOUNT, row.cell(AMOUNT).amount());
        let due_date = required(row, DUE_DATE, row.cell(DUE_DATE).date());
        let paid_on = row.check(PAID_ON, row.cell(PAID_ON).date());
        let key = customer_no.clone().zip(period);
        let record = (|| {
            Some(BillRecord {
                customer_no: customer_no?,
                period: period?,
                amount: amount?,
                due_date: due_date?,
                paid_on: paid_on?,
            })
        })();
        (key, record)
    }
}

fn required<T>(row: &mut RowCtx<'_>, field: usize, value: Result<Option<T>, String>) -> Option<T> {
    match row.check(field, value)? {
        Some(v) => Some(v),
        None => {
            row.error(field, "must not be empty");
            None
        }
    }
}
