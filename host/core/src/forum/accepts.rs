//! Accepted answers: the asker accepts one answer of their question and may withdraw it. Imported history may move
//! an accept from one answer to another with no withdrawal in between.

use rusqlite::{Connection, OptionalExtension, params};

use super::{MemberId, posts};
use crate::error::ForumError;
use cadre_model::{Accept, PostKind};

/// What an accept's event carries (refusing a post that is not an answer).
pub fn record(conn: &Connection, answer: u64, at: i64) -> Result<Accept, ForumError> {
    let facts = posts::facts(conn, answer)?;
    if facts.kind != PostKind::Answer {
        return Err(ForumError::Invalid(format!("post {answer} is not an answer")));
    }
    let question = posts::facts(conn, facts.topic)?;
    Ok(Accept {
        answer,
        answerer: facts.author,
        answer_wiki: facts.wiki_at(at),
        question: facts.topic,
        asker: question.author,
        at,
    })
}

/// The asker accepts an answer; a question that already has an accepted answer must be unaccepted first.
pub fn add(conn: &Connection, asker: MemberId, answer: u64, at: i64) -> Result<Accept, ForumError> {
    let accept = record(conn, answer, at)?;
    if accept.asker != Some(asker) {
        return Err(ForumError::Invalid(format!(
            "only the asker of question {} can accept its answers",
            accept.question
        )));
    }
    if accepted_answer(conn, accept.question)?.is_some() {
        return Err(ForumError::Invalid(format!(
            "question {} already has an accepted answer; unaccept it first",
            accept.question
        )));
    }
    conn.execute(
        "INSERT INTO accepts (question_id, answer_id, accepted_at) VALUES (?1, ?2, ?3)",
        params![accept.question as i64, answer as i64, at],
    )?;
    Ok(accept)
}

/// The asker withdraws their acceptance of an answer.
pub fn remove(conn: &Connection, asker: MemberId, answer: u64, at: i64) -> Result<Accept, ForumError> {
    let accept = record(conn, answer, at)?;
    if accept.asker != Some(asker) {
        return Err(ForumError::Invalid(format!("only the asker of question {} can unaccept", accept.question)));
    }
    let removed = conn.execute(
        "DELETE FROM accepts WHERE question_id = ?1 AND answer_id = ?2",
        params![accept.question as i64, answer as i64],
    )?;
    if removed == 0 {
        return Err(ForumError::NotFound(format!("an accepted answer {answer}")));
    }
    Ok(accept)
}

/// The answer accepted on a question, if any.
pub fn accepted_answer(conn: &Connection, question: u64) -> Result<Option<u64>, ForumError> {
    Ok(conn
        .prepare_cached("SELECT answer_id FROM accepts WHERE question_id = ?1")?
        .query_row(params![question as i64], |row| row.get::<_, i64>(0))
        .optional()?
        .map(|a| a as u64))
}

/// The other answer of the same question that an imported accept of `answer` replaces, if any.
pub fn replaced_by_import(conn: &Connection, answer: u64, at: i64) -> Result<Option<u64>, ForumError> {
    let accept = record(conn, answer, at)?;
    Ok(accepted_answer(conn, accept.question)?.filter(|&a| a != answer))
}

/// Take back an accept that imported history moved to another answer (no asker check: history says so).
pub fn import_remove(conn: &Connection, answer: u64, at: i64) -> Result<Accept, ForumError> {
    let accept = record(conn, answer, at)?;
    conn.prepare_cached("DELETE FROM accepts WHERE question_id = ?1 AND answer_id = ?2")?
        .execute(params![accept.question as i64, answer as i64])?;
    Ok(accept)
}

/// An accept from imported history: it replaces whatever answer the question had accepted.
pub fn import(conn: &Connection, answer: u64, at: i64) -> Result<Accept, ForumError> {
    let accept = record(conn, answer, at)?;
    conn.prepare_cached(
        "INSERT INTO accepts (question_id, answer_id, accepted_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT(question_id) DO UPDATE SET answer_id = ?2, accepted_at = ?3",
    )?
    .execute(params![accept.question as i64, answer as i64, at])?;
    Ok(accept)
}
