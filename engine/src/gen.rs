//! Synthetic portfolios for benchmarks and load tests.
//!
//! The recipe follows reference/users-inputs-scaling.md §1.3: a consultant's portfolio is not
//! the population of enterprises, so size classes are reweighted (20 % small, 60 % medium, 20 %
//! large), headcount is drawn inside its class, turnover is headcount times a productivity and
//! the balance sheet 0.5–1.5 times turnover. About 15 % of organisations belong to small groups
//! (a parent with 60–100 % subsidiaries, or a 25–50 % partner stake) and 2 % lack their
//! financial figures. The same seed always gives the same portfolio.

use serde_json::{json, Value};

/// splitmix64: small, fast and good enough to draw a portfolio; not for cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const COUNTRIES: [&str; 12] = [
    "DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "IE", "US", "CH",
];

/// Entity types drawn for activities: Annex I, Annex II and outside the Annexes.
const TYPES: [&str; 24] = [
    "electricity_distribution_system_operator",
    "gas_supply_undertaking",
    "airport_managing_body",
    "railway_undertaking",
    "credit_institution",
    "healthcare_provider",
    "drinking_water_supplier_distributor",
    "cloud_computing_service_provider",
    "data_centre_service_provider",
    "managed_service_provider",
    "publicly_available_electronic_communications_service_provider",
    "dns_service_provider",
    "postal_courier_service_provider",
    "waste_management_undertaking",
    "chemical_manufacturer_distributor",
    "food_business_wholesale_industrial",
    "machinery_manufacturer",
    "motor_vehicle_manufacturer",
    "online_marketplace_provider",
    "research_organisation",
    "other",
    "other",
    "other",
    "other",
];

/// `n` organisations as JSON values, in order.
pub fn portfolio(n: usize, seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(organisation(&mut rng, i));
    }
    out
}

/// The same portfolio as JSON Lines.
pub fn portfolio_jsonl(n: usize, seed: u64) -> String {
    let mut text = String::new();
    for v in portfolio(n, seed) {
        text.push_str(&v.to_string());
        text.push('\n');
    }
    text
}

fn organisation(rng: &mut Rng, i: usize) -> Value {
    let (low, high) = match rng.below(10) {
        0 | 1 => (5.0, 49.0),
        2..=7 => (50.0, 249.0),
        _ => (250.0, 5000.0),
    };
    let employees = (low + rng.unit() * (high - low)).round();
    let productivity = 80_000.0 + rng.unit() * 220_000.0;
    let turnover = (employees * productivity).round();
    let balance = (turnover * (0.5 + rng.unit())).round();
    let home = *rng.pick(&COUNTRIES);
    let mut served = vec![home];
    for _ in 0..rng.below(3) {
        let c = *rng.pick(&COUNTRIES);
        if !served.contains(&c) {
            served.push(c);
        }
    }
    let mut activities = vec![json!({"entity_type": rng.pick(&TYPES)})];
    if rng.below(10) == 0 {
        activities.push(json!({"entity_type": rng.pick(&TYPES)}));
    }
    let mut org = json!({
        "id": format!("org-{i:07}"),
        "name": format!("Organisation {i}"),
        "established_in": [home],
        "provides_services_in": served,
        "public_or_private": "private",
        "employees": employees,
        "annual_turnover_eur": turnover,
        "balance_sheet_eur": balance,
        "activities": activities,
    });
    let obj = org.as_object_mut().expect("an object");
    if rng.below(50) == 0 {
        obj.remove("annual_turnover_eur");
        obj.remove("balance_sheet_eur");
    }
    // Groups: a subsidiary or partner of the organisation just before it.
    if i > 0 && rng.below(100) < 15 {
        let share = if rng.below(2) == 0 {
            60 + rng.below(41)
        } else {
            25 + rng.below(26)
        };
        obj.insert(
            "owners".into(),
            json!([{"id": format!("org-{:07}", i - 1), "share_pct": share}]),
        );
    }
    if rng.below(4) == 0 {
        obj.insert("service_organisation".into(), json!(true));
        obj.insert(
            "service_models".into(),
            json!([rng.pick(&["saas", "iaas", "managed_services", "payments"])]),
        );
        obj.insert(
            "customer_regions".into(),
            json!([rng.pick(&["EU", "US", "UK"])]),
        );
        obj.insert(
            "customer_segments".into(),
            json!([rng.pick(&["smb", "enterprise", "regulated", "consumer"])]),
        );
        obj.insert(
            "data_handled".into(),
            json!([rng.pick(&["personal_data", "confidential_business", "payment"])]),
        );
    } else if rng.below(20) > 0 {
        // Most others serve no one's systems; a few leave it unstated (SOC 2 undetermined).
        obj.insert("service_organisation".into(), json!(false));
        obj.insert("customer_regions".into(), json!(["EU"]));
    }
    // Controls in place for a third, an ISO 27001 certificate for one in ten.
    if rng.below(3) == 0 {
        let controls: serde_json::Map<String, Value> = (0..1 + rng.below(12))
            .map(|_| {
                let id = rng.pick(&SAMPLE_CONTROLS).to_string();
                (id, json!({"maturity": rng.below(5)}))
            })
            .collect();
        obj.insert("controls".into(), Value::Object(controls));
    }
    if rng.below(10) == 0 {
        obj.insert(
            "certifications".into(),
            json!([{"scheme": "iso27001", "edition": "2022", "expires": "2027-09-30",
                    "scope_covers_services": true}]),
        );
    }
    org
}

/// Control ids the generator declares, from every part of the catalogue.
const SAMPLE_CONTROLS: [&str; 16] = [
    "C.5", "C.6", "C.9", "A.5.1", "A.5.15", "A.5.24", "A.5.26", "A.6.3", "A.8.5", "A.8.8",
    "A.8.13", "A.8.15", "N.20.1", "N.23.1", "S.SD", "S.EVID",
];
