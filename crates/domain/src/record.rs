//! Whole validated records as they enter kefu, from the API, an import file or the demo seed. Each
//! field has already passed its own check; the store only persists them.

use chrono::NaiveDate;

use crate::{
    Address, Cents, CustomerName, CustomerNo, District, Language, MeterNo, NoticePreference,
    PaymentMethod, Period, Phone, ServiceType,
};

/// One customer with contact data. `phones` is never empty and holds no duplicates; the first is the
/// primary number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CustomerRecord {
    pub customer_no: CustomerNo,
    pub name: CustomerName,
    pub phones: Vec<Phone>,
    pub address: Address,
    pub district: District,
    pub service_type: ServiceType,
    pub meter_no: Option<MeterNo>,
    pub notice_preference: NoticePreference,
    pub fax: Option<Phone>,
    pub email: Option<String>,
    pub language: Language,
    pub remarks: Option<String>,
}

/// One month's bill of one customer's account. `(customer_no, period)` identifies it, so importing the
/// same bill twice updates it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BillRecord {
    pub customer_no: CustomerNo,
    pub period: Period,
    pub amount: Cents,
    pub due_date: NaiveDate,
    pub paid_on: Option<NaiveDate>,
}

/// A payment received against an account, optionally settling one bill.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentRecord {
    pub customer_no: CustomerNo,
    pub period: Option<Period>,
    pub amount: Cents,
    pub paid_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}
