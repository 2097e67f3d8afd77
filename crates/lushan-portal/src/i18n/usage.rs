//! Usage and charges: charts, tables, statements, CSV.

super::catalogue! {
    sections {}
    title: "用量与费用", "Usage and charges";
}
