//! What a definition says before its sections are read: `extends` (a base definition and
//! this file's differences from it), families (`for_each`) and `defaults`, resolved into
//! the one TOML table the sections are read from. Every item keeps the place it was
//! written at, so `check` points at the family's line, or at the `extends` line for what
//! the base gave.
//!
//! - `extends = "base.toml"` (relative to the file): the base, resolved the same way, then
//!   this file over it. Tables merge key by key; a list of items with ids (`id`, a sheet's
//!   `name`, a table column's `field`) merges item by item: an item of a known id changes
//!   it (its keys over the base item's), `drop = true` removes it, a new id is added at
//!   the end. Any other list, or a value, replaces the base's; `unset = ["key", …]` in a
//!   table removes keys the base gives. A family is changed or dropped by its id as
//!   written (`id = "{class}_{window}"`).
//! - `for_each = { window = ["month", "year"], class = [{ id = "aw", type = "awareness" }] }`
//!   on a list item: one item per combination, in the lists' order, `{window}` in its
//!   texts the window's id, `{class.type}` a key of the class's; a key whose whole text is
//!   a placeholder the item lacks is left out, one of a key that is not a text (a list of
//!   aliases) takes that value. `for_each = { of = "group" }` goes over `[lists] group`.
//! - `defaults = { … }` (or `column_defaults` on a sheet) beside `columns`: the keys every
//!   column has unless it says otherwise.
//! - Under every definition, as a base it extends, `base.toml`: tonghop's own words, limits
//!   and policy, and what a sheet of each kind has unless it says otherwise.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::IntoDeserializer as _;
use serde::Deserialize as _;
use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

pub(super) type Problems = Vec<(String, Option<Range<usize>>)>;

/// A definition file and the ones it extends, the base last.
pub(super) struct Chain {
    pub(super) files: Vec<(PathBuf, String)>,
    /// Where each file names its base: the `extends` value's place in it.
    extends_at: Vec<Range<usize>>,
}

/// The files `text` (at `path`) extends, read, stopping at a cycle or a file that cannot
/// be read (a problem at the `extends` line).
pub(super) fn chain(path: &Path, text: &str) -> Result<Chain, Problems> {
    let mut files = vec![(path.to_path_buf(), text.to_string())];
    let mut extends_at = Vec::new();
    loop {
        let (current, current_text) = files.last().expect("a file");
        let (root, _) = DeTable::parse_recoverable(current_text);
        let Some(base) = root.get_ref().get("extends") else { break };
        let span = base.span();
        let Some(name) = base.get_ref().as_str() else {
            return Err(vec![("`extends` is the file name of the definition this one starts from".into(), Some(span))]);
        };
        let next = current.parent().unwrap_or(Path::new(".")).join(name);
        // Problems are placed in the first file's text: a base's `extends` is named there.
        let place = if files.len() == 1 { Some(span.clone()) } else { extends_at.first().cloned() };
        let seen = |p: &Path| files.iter().any(|(f, _)| same_file(f, p));
        if seen(&next) {
            return Err(vec![(format!("`extends` makes a cycle: {} extends itself", next.display()), place)]);
        }
        let base_text = std::fs::read_to_string(&next).map_err(|e| {
            vec![(format!("cannot read {}, which this definition extends: {e}", next.display()), place.clone())]
        })?;
        extends_at.push(span);
        files.push((next, base_text));
    }
    Ok(Chain { files, extends_at })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The chain's files merged, the base first, families and defaults expanded; and the
/// overrides that changed nothing.
pub(super) fn expand<'a>(chain: &'a Chain) -> Result<(DeTable<'a>, Problems), Problems> {
    let mut tables = Vec::new();
    for (i, (path, text)) in chain.files.iter().enumerate() {
        let (root, syntax) = DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            return Err(match i {
                0 => syntax.into_iter().map(|e| (e.message().to_string(), e.span())).collect(),
                _ => vec![(
                    format!("{} does not read as TOML: `tonghop check --pipeline` it alone", path.display()),
                    chain.extends_at.first().cloned(),
                )],
            });
        }
        let mut root = root.into_inner();
        root.remove("extends");
        // What a base gave is placed at the first file's `extends`.
        if i > 0 {
            let at = chain.extends_at[0].clone();
            root = root.into_iter().map(|(k, v)| (Spanned::new(at.clone(), k.into_inner()), respan(v, &at))).collect();
        }
        tables.push(root);
    }
    let mut warnings = Problems::new();
    let mut problems = Problems::new();
    let has_feedback = tables.iter().any(|t| t.contains_key("feedback"));
    let mut merged = base();
    let kinds = merged.remove("kinds");
    let every_return = merged.remove("every_return");
    let every_return_table = merged.remove("every_return_table");
    // Saying what tonghop says already is no mistake (its words may change): only an
    // override of a definition's own base is said to change nothing.
    let root_most = tables.pop().expect("a file");
    merge_tables(&mut merged, root_most, &mut Problems::new(), &mut problems);
    while let Some(child) = tables.pop() {
        merge_tables(&mut merged, child, &mut warnings, &mut problems);
    }
    // The engine's fixes serve a definition's feedback; they do not make one.
    if !has_feedback {
        merged.remove("feedback");
    }
    // Named lists are what families go over, not a section of the definition.
    let lists = match merged.remove("lists").map(Spanned::into_inner) {
        Some(DeValue::Table(lists)) => lists,
        _ => DeTable::new(),
    };
    walk(&mut merged, &lists, &mut problems);
    if let Some(kinds) = kinds {
        sheets_by_kind(&mut merged, kinds.get_ref());
    }
    returns_by_default(&mut merged, every_return.as_ref(), every_return_table.as_ref());
    if problems.is_empty() {
        Ok((merged, warnings))
    } else {
        Err(problems)
    }
}

/// What every definition starts from (`base.toml`): tonghop's own words, what findings
/// reject, the caps on a file; placed at the definition's first line.
fn base() -> DeTable<'static> {
    const BASE: &str = include_str!("base.toml");
    let root = DeTable::parse(BASE).expect("base.toml reads as TOML (a test says so)");
    let at = 0..0;
    root.into_inner().into_iter().map(|(k, v)| (Spanned::new(at.clone(), k.into_inner()), respan(v, &at))).collect()
}

/// What a sheet of each kind has unless it says otherwise (`kinds` of `base.toml`): a
/// sheet without `columns` takes its kind's, with their `print`, but for those that
/// `needs` a `[pipeline]` key the definition lacks; `labels` gain the keys the sheet's
/// own lack; any other key is taken when the sheet has none.
fn sheets_by_kind<'a>(root: &mut DeTable<'a>, kinds: &DeValue<'a>) {
    let Some(kinds) = kinds.as_table() else { return };
    let pipeline: Vec<String> = match root.get("pipeline").map(|p| p.get_ref()) {
        Some(DeValue::Table(pipeline)) => pipeline.keys().map(|k| k.get_ref().to_string()).collect(),
        _ => Vec::new(),
    };
    let kinds: DeTable<'a> = kinds.iter().map(|(kind, given)| (kind.clone(), needed(given, &pipeline))).collect();
    for section in ["workbook", "feedback"] {
        let Some(DeValue::Table(section)) = root.get_mut(section).map(|s| s.get_mut()) else { continue };
        let Some(DeValue::Array(sheets)) = section.get_mut("sheets").map(|s| s.get_mut()) else { continue };
        for sheet in sheets.iter_mut() {
            let DeValue::Table(sheet) = sheet.get_mut() else { continue };
            let kind = sheet.get("kind").and_then(|k| k.get_ref().as_str()).unwrap_or_default().to_string();
            let Some(defaults) = kinds.get(kind.as_str()).and_then(|d| d.get_ref().as_table()) else { continue };
            let own_columns = sheet.contains_key("columns");
            for (key, value) in defaults {
                match (sheet.get_mut(key.get_ref().as_ref()).map(|v| v.get_mut()), value.get_ref()) {
                    (Some(DeValue::Table(own)), DeValue::Table(given)) if key.get_ref() == "labels" => {
                        for (k, v) in given {
                            if !own.contains_key(k.get_ref().as_ref()) {
                                own.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    (Some(_), _) => {}
                    (None, _) if own_columns && key.get_ref() == "print" => {}
                    (None, _) => {
                        sheet.insert(key.clone(), value.clone());
                    }
                }
            }
        }
    }
}

/// A kind's defaults with the columns that `needs` a `[pipeline]` key not among
/// `pipeline` left out, and the others without `needs`.
fn needed<'a>(given: &Spanned<DeValue<'a>>, pipeline: &[String]) -> Spanned<DeValue<'a>> {
    let mut given = given.clone();
    if let DeValue::Table(kind) = given.get_mut() {
        for (key, value) in kind.iter_mut() {
            let DeValue::Array(columns) = value.get_mut() else { continue };
            if key.get_ref() != "columns" {
                continue;
            }
            let mut kept = DeArray::new();
            for mut column in std::mem::replace(columns, DeArray::new()) {
                if let DeValue::Table(column) = column.get_mut() {
                    match column.remove("needs").map(Spanned::into_inner) {
                        Some(DeValue::String(key)) if !pipeline.iter().any(|k| *k == key) => continue,
                        _ => {}
                    }
                }
                kept.push(column);
            }
            *columns = kept;
        }
    }
    given
}

/// What every return and each of its tables has unless it says otherwise
/// (`every_return` and `every_return_table` of `base.toml`).
fn returns_by_default<'a>(
    root: &mut DeTable<'a>,
    every_return: Option<&Spanned<DeValue<'a>>>,
    every_table: Option<&Spanned<DeValue<'a>>>,
) {
    let given =
        |d: Option<&'_ Spanned<DeValue<'a>>>| d.and_then(|d| d.get_ref().as_table()).cloned().unwrap_or_default();
    let (every_return, every_table) = (given(every_return), given(every_table));
    let Some(DeValue::Array(returns)) = root.get_mut("returns").map(|r| r.get_mut()) else { return };
    for item in returns.iter_mut() {
        let DeValue::Table(item) = item.get_mut() else { continue };
        fill_missing(item, &every_return);
        let Some(DeValue::Array(tables)) = item.get_mut("tables").map(|t| t.get_mut()) else { continue };
        for table in tables.iter_mut() {
            if let DeValue::Table(table) = table.get_mut() {
                fill_missing(table, &every_table);
            }
        }
    }
}

/// `own` given each key of `given` it lacks; a table both have is filled the same way. A
/// template or a total row is only filled: what has none has none.
fn fill_missing<'a>(own: &mut DeTable<'a>, given: &DeTable<'a>) {
    const ONLY_FILLED: [&str; 2] = ["template", "total_row"];
    for (key, value) in given {
        match (own.get_mut(key.get_ref().as_ref()).map(|v| v.get_mut()), value.get_ref()) {
            (Some(DeValue::Table(own)), DeValue::Table(given)) => fill_missing(own, given),
            (Some(_), _) => {}
            (None, DeValue::Table(_)) if ONLY_FILLED.contains(&key.get_ref().as_ref()) => {}
            (None, _) => {
                own.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `value` and everything in it placed at `at`.
fn respan<'a>(value: Spanned<DeValue<'a>>, at: &Range<usize>) -> Spanned<DeValue<'a>> {
    let inner = match value.into_inner() {
        DeValue::Table(t) => DeValue::Table(
            t.into_iter().map(|(k, v)| (Spanned::new(at.clone(), k.into_inner()), respan(v, at))).collect(),
        ),
        DeValue::Array(items) => {
            let mut out = DeArray::new();
            for item in items {
                out.push(respan(item, at));
            }
            DeValue::Array(out)
        }
        other => other,
    };
    Spanned::new(at.clone(), inner)
}

/// The keys that name an item of a list: `id`, else `name` (sheets), else `field`
/// (table columns).
const IDENTITY: [&str; 3] = ["id", "name", "field"];

/// The key that names an item of a list.
fn identity<'v>(item: &'v DeValue) -> Option<&'v str> {
    let table = item.as_table()?;
    IDENTITY.iter().find_map(|k| table.get(*k).and_then(|v| v.get_ref().as_str()))
}

/// `child` over `base`: key by key, lists of items with ids item by item; `unset = [keys]`
/// removes keys of the base.
fn merge_tables<'a>(base: &mut DeTable<'a>, mut child: DeTable<'a>, warnings: &mut Problems, problems: &mut Problems) {
    if let Some(unset) = child.remove("unset") {
        let names: Vec<String> = unset
            .get_ref()
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.get_ref().as_str().map(str::to_string))
            .collect();
        for name in names {
            if base.remove(name.as_str()).is_none() {
                problems.push((format!("`unset`: the definition it extends has no `{name}` here"), Some(unset.span())));
            }
        }
    }
    for (key, value) in child {
        let span = value.span();
        let existing = base.get_mut(key.get_ref().as_ref());
        match (existing, value.into_inner()) {
            (Some(existing), DeValue::Table(c)) if existing.get_ref().is_table() => {
                let mut merged = std::mem::replace(existing, Spanned::new(span.clone(), DeValue::Boolean(false)));
                if let DeValue::Table(b) = merged.get_mut() {
                    merge_tables(b, c, warnings, problems);
                }
                // What is wrong with the table is said at this file's place for it.
                *existing = Spanned::new(span, merged.into_inner());
            }
            (Some(existing), DeValue::Array(c))
                if existing.get_ref().is_array()
                    && !c.is_empty()
                    && c.iter().all(|i| identity(i.get_ref()).is_some()) =>
            {
                if let DeValue::Array(b) = existing.get_mut() {
                    merge_items(b, c, warnings, problems)
                }
            }
            (_, value) => {
                let value = Spanned::new(span.clone(), value);
                if base.get(key.get_ref().as_ref()).is_some_and(|old| plain(old) == plain(&value)) {
                    let message =
                        format!("`{}` is as the definition it extends has it: this changes nothing", key.get_ref());
                    warnings.push((message, Some(span)));
                }
                base.insert(key, value);
            }
        }
    }
}

/// The items of `child` over those of `base`, by id.
fn merge_items<'a>(base: &mut DeArray<'a>, child: DeArray<'a>, warnings: &mut Problems, problems: &mut Problems) {
    for item in child {
        let span = item.span();
        let id = identity(item.get_ref()).unwrap_or_default().to_string();
        let drop = item.get_ref().as_table().and_then(|t| t.get("drop")).and_then(|d| d.get_ref().as_bool());
        let at = base.iter().position(|b| identity(b.get_ref()) == Some(id.as_str()));
        match (at, drop) {
            (Some(at), Some(true)) => {
                let kept: Vec<_> = base.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, v)| v.clone()).collect();
                let mut rebuilt = DeArray::new();
                kept.into_iter().for_each(|v| rebuilt.push(v));
                *base = rebuilt;
            }
            (None, Some(true)) => {
                problems.push((format!("no item `{id}` to drop in the definition it extends"), Some(span)))
            }
            (Some(at), _) => {
                let before = plain(&base[at]);
                let mut within = Problems::new();
                if let (DeValue::Table(b), DeValue::Table(mut c)) = (base.as_mut()[at].get_mut(), item.into_inner()) {
                    // The id names the item; it is the base's by definition.
                    if let Some(key) = IDENTITY.iter().find(|k| c.get(**k).is_some_and(|v| v.get_ref().is_str())) {
                        c.remove(*key);
                    }
                    merge_tables(b, c, &mut within, problems);
                }
                if plain(&base[at]) == before {
                    warnings.push((
                        format!("`{id}` is as the definition it extends has it: this changes nothing"),
                        Some(span),
                    ));
                } else {
                    warnings.append(&mut within);
                }
            }
            (None, _) => base.push(item),
        }
    }
}

/// A value without its places, to compare.
fn plain(value: &Spanned<DeValue>) -> Option<toml::Value> {
    toml::Value::deserialize(value.clone().into_deserializer()).ok()
}

/// Families and defaults, everywhere in `table`; `lists` are the named lists a family may
/// go over.
fn walk<'a>(table: &mut DeTable<'a>, lists: &DeTable<'a>, problems: &mut Problems) {
    // A rule's `for_each = "group.field"`: that key of every member of a named list.
    if let Some(named) = table.get("for_each").filter(|f| f.get_ref().is_str()).cloned() {
        match list_keys(named.get_ref().as_str().unwrap_or_default(), lists) {
            Ok(values) => {
                let mut array = DeArray::new();
                values.into_iter().for_each(|v| array.push(Spanned::new(named.span(), v)));
                table.insert(
                    Spanned::new(named.span(), Cow::Borrowed("for_each")),
                    Spanned::new(named.span(), DeValue::Array(array)),
                );
            }
            Err(message) => problems.push((message, Some(named.span()))),
        }
    }
    for (_, value) in table.iter_mut() {
        match value.get_mut() {
            DeValue::Table(t) => walk(t, lists, problems),
            DeValue::Array(items) => {
                if items
                    .iter()
                    .any(|i| i.get_ref().as_table().is_some_and(|t| t.get("for_each").is_some_and(is_family)))
                {
                    let expanded = families(std::mem::replace(items, DeArray::new()), lists, problems);
                    *items = expanded;
                }
                for item in items.iter_mut() {
                    if let DeValue::Table(t) = item.get_mut() {
                        walk(t, lists, problems);
                    }
                }
            }
            _ => {}
        }
    }
    for key in ["defaults", "column_defaults"] {
        if let Some(defaults) = table.remove(key) {
            defaults_into(table, defaults, problems);
        }
    }
}

/// `key` of every member of the named list `name`, from `"name.key"`.
fn list_keys<'a>(named: &str, lists: &DeTable<'a>) -> Result<Vec<DeValue<'a>>, String> {
    let wrong =
        || format!("`for_each = \"{named}\"` names a key of the members of a list in `[lists]` (\"group.field\")");
    let (name, key) = named.split_once('.').ok_or_else(wrong)?;
    let members = lists.get(name).and_then(|l| l.get_ref().as_array()).ok_or_else(wrong)?;
    members
        .iter()
        .map(|m| {
            let value = m
                .get_ref()
                .as_table()
                .and_then(|t| t.get(key))
                .ok_or_else(|| format!("`for_each = \"{named}\"`: a member of `{name}` has no `{key}`"))?;
            Ok(value.get_ref().clone())
        })
        .collect()
}

/// A family's `for_each` is a table of lists (a rule's list of fields is the rule's own).
fn is_family(value: &Spanned<DeValue>) -> bool {
    value.get_ref().as_table().is_some()
}

/// The keys of `defaults` given to every column of `table` that lacks them.
fn defaults_into<'a>(table: &mut DeTable<'a>, defaults: Spanned<DeValue<'a>>, problems: &mut Problems) {
    let span = defaults.span();
    let (Some(defaults), Some(columns)) = (
        defaults.get_ref().as_table(),
        table.get_mut("columns").and_then(|c| match c.get_mut() {
            DeValue::Array(items) => Some(items),
            _ => None,
        }),
    ) else {
        problems.push(("`defaults` is a table of keys beside a list of `columns`".into(), Some(span)));
        return;
    };
    for column in columns.iter_mut() {
        if let DeValue::Table(c) = column.get_mut() {
            for (k, v) in defaults.iter() {
                if c.get(k.get_ref().as_ref()).is_none() {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// One family member: its list's name, its id, its keys.
struct Member<'a> {
    name: String,
    id: String,
    keys: Vec<(String, DeValue<'a>)>,
}

/// Every item of `items`, a family made one item per combination of its lists (a list
/// written in place, or the name of one of `lists`).
fn families<'a>(items: DeArray<'a>, lists: &DeTable<'a>, problems: &mut Problems) -> DeArray<'a> {
    let mut out = DeArray::new();
    for item in items {
        let span = item.span();
        let DeValue::Table(mut table) = item.into_inner() else { continue };
        let Some(over) = table.remove("for_each").filter(is_family) else {
            out.push(Spanned::new(span, DeValue::Table(table)));
            continue;
        };
        let mut axes: Vec<Vec<Member>> = Vec::new();
        for (name, list) in over.get_ref().as_table().into_iter().flatten() {
            let named = list.get_ref().as_str().map(|n| (n, lists.get(n)));
            let list = match named {
                Some((_, Some(named))) => named,
                Some((n, None)) => {
                    problems.push((format!("no list `{n}` in `[lists]`"), Some(list.span())));
                    continue;
                }
                None => list,
            };
            let Some(list) = list.get_ref().as_array() else {
                problems.push((
                    format!("`for_each.{}` is a list, or the name of one in `[lists]`", name.get_ref()),
                    Some(list.span()),
                ));
                continue;
            };
            let members = list.iter().filter_map(|m| member(name.get_ref(), m, problems)).collect();
            axes.push(members);
        }
        let mut combinations: Vec<Vec<&Member>> = vec![vec![]];
        for axis in &axes {
            combinations = combinations
                .into_iter()
                .flat_map(|c| axis.iter().map(move |m| c.iter().copied().chain([m]).collect::<Vec<_>>()))
                .collect();
        }
        for combination in combinations {
            let mut expanded = table.clone();
            fill_table(&mut expanded, &combination);
            out.push(Spanned::new(span.clone(), DeValue::Table(expanded)));
        }
    }
    out
}

fn member<'a>(name: &str, value: &Spanned<DeValue<'a>>, problems: &mut Problems) -> Option<Member<'a>> {
    match value.get_ref() {
        DeValue::String(id) => Some(Member { name: name.to_string(), id: id.to_string(), keys: vec![] }),
        DeValue::Table(t) => {
            let Some(id) = t.get("id").and_then(|v| v.get_ref().as_str()) else {
                problems.push((
                    format!("an item of `for_each.{name}` is a text or a table with an `id`"),
                    Some(value.span()),
                ));
                return None;
            };
            let keys = t.iter().map(|(k, v)| (k.get_ref().to_string(), v.get_ref().clone())).collect();
            Some(Member { name: name.to_string(), id: id.to_string(), keys })
        }
        _ => {
            problems
                .push((format!("an item of `for_each.{name}` is a text or a table with an `id`"), Some(value.span())));
            None
        }
    }
}

/// The placeholders of `members` filled in every text of `table`; a key whose whole text
/// is a placeholder no member gives is removed.
fn fill_table<'a>(table: &mut DeTable<'a>, members: &[&Member<'a>]) {
    let unfilled: Vec<String> = table
        .iter()
        .filter(|(_, v)| v.get_ref().as_str().is_some_and(|s| whole_placeholder(s, members)))
        .map(|(k, _)| k.get_ref().to_string())
        .collect();
    for key in unfilled {
        table.remove(key.as_str());
    }
    for (_, value) in table.iter_mut() {
        fill(value.get_mut(), members);
    }
}

/// Whether `text` is one placeholder, `{name.key}`, that none of `members` gives.
fn whole_placeholder(text: &str, members: &[&Member]) -> bool {
    let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else { return false };
    let Some((name, key)) = inner.split_once('.') else { return false };
    members.iter().any(|m| m.name == name)
        && !members.iter().any(|m| m.name == name && m.keys.iter().any(|(k, _)| k == key))
}

/// The value a member gives for `text` when that is one placeholder, `{name.key}`, of a
/// key that is not a text (a list of aliases): it stands in whole.
fn whole_value<'a>(text: &str, members: &[&Member<'a>]) -> Option<DeValue<'a>> {
    let (name, key) = text.strip_prefix('{')?.strip_suffix('}')?.split_once('.')?;
    let member = members.iter().find(|m| m.name == name)?;
    let (_, value) = member.keys.iter().find(|(k, v)| k == key && v.as_str().is_none())?;
    Some(value.clone())
}

fn fill<'a>(value: &mut DeValue<'a>, members: &[&Member<'a>]) {
    if let Some(given) = value.as_str().and_then(|s| whole_value(s, members)) {
        *value = given;
        return;
    }
    match value {
        DeValue::String(s) => {
            let mut text = s.to_string();
            // Twice: a member's own text may hold another's placeholder.
            for _ in 0..2 {
                for m in members {
                    for (key, v) in &m.keys {
                        if let Some(v) = v.as_str() {
                            text = text.replace(&format!("{{{}.{key}}}", m.name), v);
                        }
                    }
                    text = text.replace(&format!("{{{}}}", m.name), &m.id);
                }
            }
            *s = Cow::Owned(text);
        }
        DeValue::Table(t) => fill_table(t, members),
        DeValue::Array(items) => items.iter_mut().for_each(|i| fill(i.get_mut(), members)),
        _ => {}
    }
}

/// The resolved definition as TOML text: what `tonghop check --expanded` prints.
pub(super) fn to_toml(root: DeTable) -> Result<String, String> {
    let value = toml::Value::deserialize(Spanned::new(0..0, DeValue::Table(root)).into_deserializer())
        .map_err(|e| e.to_string())?;
    toml::to_string(&value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `files` written to a folder, the first expanded: the TOML it resolves to, or the
    /// problems (message and line).
    /// Messages with the line of the first file they point at.
    type Lined = Vec<(String, usize)>;

    fn expanded(files: &[(&str, &str)]) -> Result<(toml::Value, Lined), Lined> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let (path, text) = (dir.path().join(files[0].0), files[0].1);
        let line = |span: Option<Range<usize>>| span.map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        let lined = |problems: Problems| problems.into_iter().map(|(m, s)| (m, line(s))).collect::<Vec<_>>();
        let chain = chain(&path, text).map_err(lined)?;
        let (root, warnings) = expand(&chain).map_err(lined)?;
        let value = toml::Value::deserialize(Spanned::new(0..0, DeValue::Table(root)).into_deserializer()).unwrap();
        Ok((value, lined(warnings)))
    }

    fn ids(value: &toml::Value, list: &str, key: &str) -> Vec<String> {
        value[list].as_array().unwrap().iter().map(|i| i[key].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn a_family_is_one_item_per_combination_its_placeholders_filled() {
        let text = r#"
[[measures]]
id = "adm"
window = "month"

[[measures]]
for_each = { class = [{ id = "aw", type = "awareness" }, { id = "nm", type = "new_member" }], window = ["month", { id = "year", opening = "opening.{class}_{window}" }] }
id = "{class}_{window}"
filter = "class_type = '{class.type}'"
window = "{window}"
opening = "{window.opening}"
"#;
        let (value, _) = expanded(&[("p.toml", text)]).unwrap();
        assert_eq!(ids(&value, "measures", "id"), ["adm", "aw_month", "aw_year", "nm_month", "nm_year"]);
        let nm_year = &value["measures"][4];
        assert_eq!(nm_year["filter"].as_str(), Some("class_type = 'new_member'"));
        assert_eq!(nm_year["opening"].as_str(), Some("opening.nm_year"), "a placeholder inside a member's own key");
        assert!(value["measures"][1].get("opening").is_none(), "the month gives no opening: the key is left out");
        assert!(value["measures"][1].get("for_each").is_none());
    }

    #[test]
    fn defaults_fill_what_a_column_does_not_say() {
        let text = r#"
[[references]]
id = "t"
[references.table]
defaults = { type = "count", blank = "zero" }
columns = [{ field = "code", type = "text" }, { field = "plan" }]
"#;
        let (value, _) = expanded(&[("p.toml", text)]).unwrap();
        let columns = value["references"][0]["table"]["columns"].as_array().unwrap();
        assert_eq!(columns[0]["type"].as_str(), Some("text"));
        assert_eq!((columns[1]["type"].as_str(), columns[1]["blank"].as_str()), (Some("count"), Some("zero")));
        assert!(value["references"][0]["table"].get("defaults").is_none());
    }

    const BASE: &str = r#"
[pipeline]
name = "base"
title = "Base"

[[measures]]
id = "a"
window = "month"

[[measures]]
id = "b"
window = "year"

[[measures]]
id = "c"
window = "term"
"#;

    #[test]
    fn extends_changes_adds_and_drops_items_by_id() {
        let child = r#"extends = "base.toml"

[pipeline]
name = "child"
title = "Base"

[[measures]]
id = "b"
window = "month"
level = "grassroots"

[[measures]]
id = "c"
drop = true

[[measures]]
id = "d"
window = "term"

[[measures]]
id = "a"
window = "month"
"#;
        let (value, warnings) = expanded(&[("child.toml", child), ("base.toml", BASE)]).unwrap();
        assert_eq!(value["pipeline"]["name"].as_str(), Some("child"));
        assert_eq!(value["pipeline"]["title"].as_str(), Some("Base"), "what the child does not say is the base's");
        assert_eq!(ids(&value, "measures", "id"), ["a", "b", "d"]);
        assert_eq!(value["measures"][1]["window"].as_str(), Some("month"));
        let same =
            |what: &str, line| (format!("`{what}` is as the definition it extends has it: this changes nothing"), line);
        assert_eq!(warnings, [same("title", 5), same("a", 20)]);
    }

    #[test]
    fn unset_removes_what_the_base_says() {
        let child = "extends = \"base.toml\"\n\n[pipeline]\nunset = [\"title\"]\n";
        let (value, _) = expanded(&[("child.toml", child), ("base.toml", BASE)]).unwrap();
        assert!(value["pipeline"].get("title").is_none());
        assert_eq!(value["pipeline"]["name"].as_str(), Some("base"));
        let wrong = "extends = \"base.toml\"\n\n[pipeline]\nunset = [\"colour\"]\n";
        let problems = expanded(&[("child.toml", wrong), ("base.toml", BASE)]).unwrap_err();
        assert_eq!(problems, [("`unset`: the definition it extends has no `colour` here".to_string(), 4)]);
    }

    #[test]
    fn an_unknown_id_to_drop_and_a_cycle_are_errors_at_their_line() {
        let child = "extends = \"base.toml\"\n\n[[measures]]\nid = \"z\"\ndrop = true\n";
        let problems = expanded(&[("child.toml", child), ("base.toml", BASE)]).unwrap_err();
        assert_eq!(problems, [("no item `z` to drop in the definition it extends".to_string(), 3)]);
        let a = "# a\nextends = \"b.toml\"\n";
        let problems = expanded(&[("a.toml", a), ("b.toml", "extends = \"a.toml\"\n")]).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].0.contains("cycle"), "{problems:?}");
        assert_eq!(problems[0].1, 2, "at the first file's extends");
    }

    #[test]
    fn every_definition_starts_from_tonghops_own_words_and_states_only_what_differs() {
        let text = r#"
[messages]
period-missing = "Không ghi quý báo cáo."

[workbook]
file = "x.xlsx"

[[workbook.sheets]]
name = "Kiểm tra"
kind = "findings"

[[workbook.sheets]]
name = "Nộp báo cáo"
kind = "completeness"
labels = { list_group = "Đảng bộ" }
"#;
        let (value, warnings) = expanded(&[("p.toml", text)]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        // Every engine finding is titled and worded; the definition's own word wins.
        assert_eq!(value["titles"]["cell-type"].as_str(), Some("Ô số liệu ghi chữ"));
        assert_eq!(value["messages"]["period-missing"].as_str(), Some("Không ghi quý báo cáo."));
        assert!(value["messages"]["cell-type"].as_str().unwrap().contains("{column}"));
        assert_eq!(value["workbook"]["motto"].as_str(), Some("ĐẢNG CỘNG SẢN VIỆT NAM"));
        assert_eq!(value["workbook"]["file"].as_str(), Some("x.xlsx"));
        assert_eq!(value["limits"]["max_cells"].as_integer(), Some(4_000_000));
        // The base's feedback is for a definition that asks for feedback.
        assert!(value.get("feedback").is_none());
        let sheets = value["workbook"]["sheets"].as_array().unwrap();
        let findings = sheets[0].as_table().unwrap();
        assert_eq!(findings["title"].as_str(), Some("KẾT QUẢ KIỂM TRA DỮ LIỆU BÁO CÁO"));
        assert!(findings["columns"].as_array().unwrap().len() > 5);
        assert!(findings.contains_key("print"));
        let labels = sheets[1]["labels"].as_table().unwrap();
        assert_eq!(labels["list_group"].as_str(), Some("Đảng bộ"));
        assert_eq!(labels["status_missing"].as_str(), Some("Chưa nộp"));

        let text = r#"
[feedback]
level = "district"

[[feedback.sheets]]
name = "Phản hồi"
labels = { none = "Không có lỗi." }

[[workbook.sheets]]
name = "Kiểm tra"
kind = "findings"
columns = [{ label = "Nội dung", value = "finding:message" }]
"#;
        let (value, _) = expanded(&[("p.toml", text)]).unwrap();
        let feedback = &value["feedback"];
        assert_eq!(feedback["file"].as_str(), Some("Phan_hoi_{period}_{code}.xlsx"));
        assert!(feedback["fixes"]["cell-type"].is_str());
        let sheet = &feedback["sheets"].as_array().unwrap()[0];
        assert_eq!(sheet["labels"]["none"].as_str(), Some("Không có lỗi."));
        assert_eq!(sheet["columns"].as_array().unwrap().len(), 6);
        // A sheet with columns of its own does not take the base's print of other columns.
        let findings = value["workbook"]["sheets"][0].as_table().unwrap();
        assert_eq!(findings["columns"].as_array().unwrap().len(), 1);
        assert!(!findings.contains_key("print"));
    }

    #[test]
    fn who_reported_on_time_is_a_column_only_where_there_is_a_deadline() {
        let sheets = r#"
[[workbook.sheets]]
name = "Nộp báo cáo"
kind = "completeness"

[[workbook.sheets]]
name = "Tổng hợp"
kind = "units"
"#;
        let values = |value: &toml::Value| -> Vec<String> {
            let columns = value["workbook"]["sheets"][0]["columns"].as_array().unwrap();
            assert!(columns.iter().all(|c| c.get("needs").is_none()), "`needs` is the base's, not the plan's");
            columns.iter().map(|c| c["value"].as_str().unwrap().to_string()).collect()
        };
        let (without, _) = expanded(&[("p.toml", sheets)]).unwrap();
        assert_eq!(values(&without).len(), 8);
        assert!(!values(&without).iter().any(|v| v.contains("on_time")));
        let with = format!("[pipeline]\ndeadline = {{ day = 30 }}\n{sheets}");
        let (with, _) = expanded(&[("p.toml", &with)]).unwrap();
        assert_eq!(values(&with).len(), 12);
        assert_eq!(
            values(&with)[8..],
            ["completeness:on_time", "completeness:late", "completeness:undated", "completeness:on_time_rate"]
        );
        // A units sheet's total is the whole province's unless it says otherwise.
        assert_eq!(with["workbook"]["sheets"][1]["total_label"].as_str(), Some("Toàn Đảng bộ tỉnh"));
    }

    #[test]
    fn a_return_has_a_party_papers_title_block_form_and_table_ends_unless_it_says_otherwise() {
        let text = r#"
[[returns]]
id = "mau01"
template = { heading = "BÁO CÁO", period_line = "Tháng {month} năm {year}" }
tables = [
  { id = "cells", total_row = { column = "cell_name" }, columns = [] },
  { id = "notes", stop_at = [], total_row = { column = "x", label = "Cộng" }, columns = [] },
]

[[returns]]
id = "mau02"
header = { unit = { label = "Mã tổ chức" }, period = { label = "Kỳ" } }
tables = [{ id = "classes", columns = [] }]
"#;
        let (value, warnings) = expanded(&[("p.toml", text)]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let (mau01, mau02) = (&value["returns"][0], &value["returns"][1]);
        assert_eq!(mau01["header"]["unit"]["label"].as_str(), Some("Mã đơn vị"));
        assert_eq!(mau01["header"]["date_marker"].as_str(), Some("ngày"));
        assert_eq!(mau01["template"]["motto"].as_str(), Some("ĐẢNG CỘNG SẢN VIỆT NAM"));
        assert_eq!(mau01["template"]["heading"].as_str(), Some("BÁO CÁO"));
        let cells = &mau01["tables"][0];
        assert_eq!(cells["total_row"]["label"].as_str(), Some("Tổng cộng"));
        assert_eq!(cells["total_row"]["aliases"].as_array().unwrap().len(), 3);
        assert_eq!(cells["stop_at"].as_array().unwrap()[0].as_str(), Some("Nơi nhận"));
        // What a table says is kept, and the rest filled in.
        let notes = &mau01["tables"][1];
        assert!(notes["stop_at"].as_array().unwrap().is_empty());
        assert_eq!(notes["total_row"]["label"].as_str(), Some("Cộng"));
        assert!(notes["total_row"]["aliases"].is_array());
        // A header is filled key by key; a template or a total row is never added.
        assert_eq!(mau02["header"]["unit"]["label"].as_str(), Some("Mã tổ chức"));
        assert_eq!(mau02["header"]["date_marker"].as_str(), Some("ngày"));
        assert!(mau02.get("template").is_none());
        assert!(mau02["tables"][0].get("total_row").is_none());
    }

    #[test]
    fn a_family_goes_over_a_named_list_and_a_whole_placeholder_stands_for_any_value() {
        let text = r#"
[lists]
group = [
  { id = "female", label = "Nữ" },
  { id = "students", label = "Học sinh, sinh viên", aliases = [["Kết nạp", "HSSV"]] },
]

[[measures]]
for_each = { of = "group" }
id = "{of}_term"

[[columns]]
for_each = { of = "group" }
field = "{of}"
header = ["Kết nạp", "{of.label}"]
aliases = "{of.aliases}"
"#;
        let (value, _) = expanded(&[("p.toml", text)]).unwrap();
        assert_eq!(ids(&value, "measures", "id"), ["female_term", "students_term"]);
        let columns = value["columns"].as_array().unwrap();
        assert!(columns[0].get("aliases").is_none(), "{columns:?}");
        assert_eq!(columns[1]["aliases"][0][1].as_str(), Some("HSSV"));
        assert_eq!(columns[1]["header"][1].as_str(), Some("Học sinh, sinh viên"));
        assert!(value.get("lists").is_none(), "lists are expanded away");

        let text = "[[measures]]\nfor_each = { of = \"groups\" }\nid = \"{of}\"\n";
        let problems = expanded(&[("p.toml", text)]).unwrap_err();
        assert_eq!(problems, [("no list `groups` in `[lists]`".to_string(), 2)]);

        // A rule's list of fields, from a key of the members.
        let text = "[lists]\ngroup = [{ id = \"f\", field = \"female\" }, { id = \"s\", field = \"students\" }]\n\n\
                    [[rules]]\nid = \"r\"\nfor_each = \"group.field\"\ncheck = \"{field} <= admitted\"\n";
        let (value, _) = expanded(&[("p.toml", text)]).unwrap();
        let fields: Vec<&str> =
            value["rules"][0]["for_each"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(fields, ["female", "students"]);
        let problems = expanded(&[("p.toml", &text.replace("group.field", "group.label"))]).unwrap_err();
        assert_eq!(problems, [("`for_each = \"group.label\"`: a member of `group` has no `label`".to_string(), 6)]);
    }
}
