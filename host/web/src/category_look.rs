//! How a category looks: its description and colour, set by moderators (the panel's categories page, or the API)
//! and shown wherever categories are listed. Colours are names from a fixed palette
//! (`cadre_core::forum::categories::PALETTE`), each a class of the style sheet: the content security policy forbids
//! inline styles.
//!
//! Owns the form and its handlers; the rule and the table are `cadre_core::forum::categories`.

use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::api::{ApiResult, check};
use super::auth::Who;
use super::error::WebError;
use super::html::csrf;
use super::pages::PageResult;
use cadre_core::forum::categories::{self, MAX_DESCRIPTION, PALETTE};
use cadre_core::forum::read::Category;

/// The description-and-colour form of one category (a row of the panel's list).
pub fn form(who: &Who, category: &Category) -> Markup {
    html! {
        form.category-look method="post" action={ "/mod/categories/" (category.slug) } {
            (csrf(who))
            input type="text" name="description" maxlength=(MAX_DESCRIPTION) value=(category.description)
                placeholder="What it is for" aria-label={ "Description of " (category.name) };
            select name="colour" aria-label={ "Colour of " (category.name) } {
                @for colour in PALETTE { option value=(colour) selected[category.colour == colour] { (colour) } }
            }
            button.secondary type="submit" { "Save" }
        }
    }
}

/// A category's look.
#[derive(Debug, Deserialize)]
pub struct LookForm {
    /// CSRF token (forms).
    #[serde(default)]
    pub csrf: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// One of the palette's colours.
    #[serde(default)]
    pub colour: String,
}

async fn set(state: &AppState, slug: String, form: LookForm) -> Result<(), WebError> {
    state.forum.run(move |forum| categories::set_look(forum.conn(), &slug, &form.description, &form.colour)).await??;
    Ok(())
}

/// `POST /mod/categories/{slug}`: set the description and colour.
pub async fn submit(
    State(state): State<AppState>,
    who: Who,
    Path(slug): Path<String>,
    Form(form): Form<LookForm>,
) -> PageResult {
    who.moderator()?;
    who.check_csrf(&form.csrf)?;
    set(&state, slug, form).await?;
    Ok(Redirect::to("/mod/categories").into_response())
}

/// `POST /api/mod/categories/{slug}`: the same, as JSON (`{"description": …, "colour": …}`).
pub async fn api_submit(
    State(state): State<AppState>,
    who: Who,
    h: HeaderMap,
    Path(slug): Path<String>,
    Json(form): Json<LookForm>,
) -> ApiResult {
    who.moderator()?;
    check(&who, &h)?;
    set(&state, slug.clone(), form).await?;
    Ok(Json(json!({ "category": slug })).into_response())
}
