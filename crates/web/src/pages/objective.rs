//! The objectives page: objectives with their status and trend, the metrics Attest
//! measures, and forms to set an objective and record a measurement.

use askama::Template;
use attest_app::objective::{ObjectiveRow, ObjectivesView};
use attest_app::{AppError, Permission};
use attest_domain::objective::Direction;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::objective::{ObjectiveBody, input};
use crate::auth::Auth;
use crate::error::{ApiPath, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let manage = Access::Perm(Permission::IsmsManage);
    r.page(
        Method::GET,
        "/objectives",
        Access::Perm(Permission::ProgramRead),
        list,
    )
    .page(Method::POST, "/objectives", manage, create)
    .page(
        Method::POST,
        "/objectives/{objective_id}/measurements",
        manage,
        measure,
    )
}

/// An objective as shown, with its trend drawn as an SVG line.
struct Row {
    o: ObjectiveRow,
    status: &'static str,
    status_class: &'static str,
    direction: &'static str,
    latest: String,
    svg: String,
}

#[derive(Template)]
#[template(path = "objectives.html")]
struct Page {
    shell: Shell,
    rows: Vec<Row>,
    metrics: Vec<(String, String)>,
    current: Vec<(String, String)>,
    members: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A small line chart: the values (oldest first) and the target as a dashed line. Only
/// numbers go into it.
fn sparkline(trend: &[(time::Date, f64)], target: f64) -> String {
    const W: f64 = 220.0;
    const H: f64 = 48.0;
    if trend.is_empty() {
        return String::new();
    }
    let lo = trend.iter().map(|t| t.1).fold(target, f64::min);
    let hi = trend.iter().map(|t| t.1).fold(target, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let y = |v: f64| H - 4.0 - (v - lo) / span * (H - 8.0);
    let first = trend[0].0;
    let days = (trend[trend.len() - 1].0 - first).whole_days().max(1) as f64;
    let points: Vec<String> = trend
        .iter()
        .map(|(d, v)| {
            let x = 4.0 + (*d - first).whole_days() as f64 / days * (W - 8.0);
            format!("{x:.1},{:.1}", y(*v))
        })
        .collect();
    format!(
        "<svg class=\"trend\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"Trend of the last {n} measurements\">\
         <line x1=\"0\" x2=\"{W}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"#9aa4b2\" stroke-dasharray=\"4 3\"/>\
         <polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2\" points=\"{p}\"/></svg>",
        n = trend.len(),
        ty = y(target),
        p = points.join(" ")
    )
}

async fn view(st: &AppState, auth: &Auth, error: Option<String>) -> Result<Response, WebError> {
    let v: ObjectivesView = st
        .app
        .objectives(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let can_manage = auth.caller.require(Permission::IsmsManage).is_ok();
    let members = if can_manage {
        st.app
            .assignable_people(&auth.caller)
            .await
            .map_err(WebError::page)?
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect()
    } else {
        Vec::new()
    };
    let labels: std::collections::HashMap<&str, &str> = v
        .metrics
        .iter()
        .map(|m| (m.id.as_str(), m.label.as_str()))
        .collect();
    use attest_domain::objective::ObjectiveStatus as S;
    let page = Page {
        shell: Shell::new(st, auth, "Objectives", "objectives").await?,
        current: v
            .current
            .iter()
            .map(|(m, x)| {
                (
                    labels
                        .get(m.as_str())
                        .map_or(m.clone(), |l| (*l).to_owned()),
                    number(*x),
                )
            })
            .collect(),
        rows: v
            .objectives
            .into_iter()
            .map(|o| Row {
                status: o.status.label(),
                status_class: match o.status {
                    S::Met => "ok",
                    S::OnTrack => "warn",
                    S::Missed => "bad",
                    S::NoData => "",
                },
                direction: match o.direction {
                    Direction::AtLeast => "≥",
                    Direction::AtMost => "≤",
                },
                latest: o.latest.map(number).unwrap_or_else(|| "—".into()),
                svg: sparkline(&o.trend, o.target),
                o,
            })
            .collect(),
        metrics: v.metrics.into_iter().map(|m| (m.id, m.label)).collect(),
        members,
        can_manage,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    view(&st, &auth, None).await
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let target = one(&p, "target");
    let result = match target.trim().parse::<f64>() {
        Err(_) => Err(AppError::invalid("target", "give a number")),
        Ok(target) => {
            let b = ObjectiveBody {
                title: one(&p, "title"),
                description: one(&p, "description"),
                owner_id: Some(one(&p, "owner_id")),
                metric: one(&p, "metric"),
                target,
                direction: one(&p, "direction"),
                due_on: Some(one(&p, "due_on")),
            };
            match input(&b) {
                Ok(i) => st.app.put_objective(&auth.caller, None, i).await,
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(_) => Ok(see_other("/objectives")),
        Err(e) => view(&st, &auth, Some(message(e)?)).await,
    }
}

async fn measure(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let result = match one(&p, "value").trim().parse::<f64>() {
        Err(_) => Err(AppError::invalid("value", "give a number")),
        Ok(v) => {
            st.app
                .measure_objective(&auth.caller, &id, v, attest_domain::Timestamp::now().date())
                .await
        }
    };
    match result {
        Ok(_) => Ok(see_other("/objectives")),
        Err(e) => view(&st, &auth, Some(message(e)?)).await,
    }
}
