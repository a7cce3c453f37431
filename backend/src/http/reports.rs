//! `/api/operator/reports/*`: the figures of a period as JSON, the chats behind a figure, the
//! pushes sent about a chat, and CSV downloads. Admins see every operator; an operator sees
//! the team's totals and their own figures and chats.

use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_shared::{
    ChatId, OperatorId, PushDelivery, Report, ReportChatsPage, ReportChatsQuery, ReportPeriod,
    ReportQuery, ReportTable,
};

use super::{Operator, Params};
use crate::error::Error;
use crate::reports::{self, Period, csv};
use crate::state::AppState;
use crate::store::now_ms;

/// `/api/operator/reports/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/operator/reports", get(report))
        .route("/api/operator/reports/chats", get(chats))
        .route("/api/operator/reports/chats/{id}/pushes", get(pushes))
        .route("/api/operator/reports/export/{table}", get(export))
}

/// The period in the site's time zone, and whose figures the viewer may see.
fn period_of(
    state: &AppState,
    op: &Operator,
    q: &ReportQuery,
) -> Result<(Period, Option<OperatorId>), Error> {
    let zone = state.settings.with(|s| s.time_zone.clone());
    let period = reports::resolve(q, &zone, now_ms())?;
    let operator = reports::operator_filter(&op.profile, q.operator)?;
    Ok((period, operator))
}

async fn report(
    State(state): State<AppState>,
    op: Operator,
    Params(q): Params<ReportQuery>,
) -> Result<Json<Report>, Error> {
    let (period, operator) = period_of(&state, &op, &q)?;
    Ok(Json(
        reports::report(&state.store, &period, operator, &op.profile, now_ms()).await?,
    ))
}

async fn chats(
    State(state): State<AppState>,
    op: Operator,
    Params(q): Params<ReportChatsQuery>,
) -> Result<Json<ReportChatsPage>, Error> {
    let (period, operator) = period_of(&state, &op, &q.report())?;
    Ok(Json(
        reports::chats(&state.store, &period, &q, operator, &op.profile).await?,
    ))
}

async fn pushes(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PushDelivery>>, Error> {
    Ok(Json(
        reports::pushes(&state.store, ChatId(id), &op.profile).await?,
    ))
}

/// The export's query: the report's, and whether to start with a byte order mark.
#[derive(Deserialize)]
struct ExportQuery {
    period: Option<ReportPeriod>,
    from: Option<String>,
    to: Option<String>,
    operator: Option<OperatorId>,
    #[serde(default)]
    bom: bool,
}

/// A CSV download: `chats` streams one row per chat; `days`, `hours` and `operators` are
/// the report's tables.
async fn export(
    State(state): State<AppState>,
    op: Operator,
    Path(table): Path<String>,
    Params(q): Params<ExportQuery>,
) -> Result<Response, Error> {
    let table = match table.as_str() {
        "chats" => ReportTable::Chats,
        "days" => ReportTable::Days,
        "hours" => ReportTable::Hours,
        "operators" => ReportTable::Operators,
        _ => return Err(Error::not_found("report table")),
    };
    let query = ReportQuery {
        period: q.period,
        from: q.from,
        to: q.to,
        operator: q.operator,
    };
    let (period, operator) = period_of(&state, &op, &query)?;
    let name = format!(
        "switchboard-{}-{}-to-{}.csv",
        table.as_str(),
        period.from,
        period.to
    );
    let body = match table {
        ReportTable::Chats => HttpBody::from_stream(csv::chats(
            state.store.clone(),
            period,
            operator,
            &op.profile,
            q.bom,
        )),
        small => {
            let report =
                reports::report(&state.store, &period, operator, &op.profile, now_ms()).await?;
            let text = match small {
                ReportTable::Days => csv::buckets(&report, false),
                ReportTable::Hours => csv::buckets(&report, true),
                _ => csv::operators(&report),
            };
            let bom = if q.bom { csv::BOM } else { "" };
            HttpBody::from(format!("{bom}{text}"))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
