//! The category tree, as pure functions over the flat rows the store keeps (`id`, `parent_id`,
//! `name`, `position`): building the tree, refusing moves that would make a cycle, subtrees (the
//! search filter takes a category with its subtree), paths, sibling-name uniqueness and the positions
//! after a drag and drop.

use std::collections::{HashMap, HashSet};

use kefu_domain::FieldError;
use serde::Serialize;
use uuid::Uuid;

use crate::model::CategoryName;

/// One category as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub position: i32,
}

/// One category with its children, in order (the `GET /categories` shape, without counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryNode {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub position: i32,
    pub children: Vec<CategoryNode>,
}

/// Builds the forest from flat rows. Siblings are ordered by position, then name, then id. A row whose
/// parent is missing is shown as a root; rows caught in a cycle (which [`would_cycle`] keeps out of the
/// store) are left out rather than looping.
pub fn build_tree(rows: &[CategoryRow]) -> Vec<CategoryNode> {
    let ids: HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut children: HashMap<Option<Uuid>, Vec<&CategoryRow>> = HashMap::new();
    for row in rows {
        let parent = row.parent_id.filter(|p| ids.contains(p) && *p != row.id);
        children.entry(parent).or_default().push(row);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.position, &a.name, a.id).cmp(&(b.position, &b.name, b.id)));
    }
    fn grow(
        parent: Option<Uuid>,
        children: &HashMap<Option<Uuid>, Vec<&CategoryRow>>,
        seen: &mut HashSet<Uuid>,
    ) -> Vec<CategoryNode> {
        let Some(list) = children.get(&parent) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(list.len());
        for row in list {
            if !seen.insert(row.id) {
                continue;
            }
            out.push(CategoryNode {
                id: row.id,
                parent_id: row.parent_id,
                name: row.name.clone(),
                position: row.position,
                children: grow(Some(row.id), children, seen),
            });
        }
        out
    }
    grow(None, &children, &mut HashSet::new())
}

/// Whether putting `moving` under `new_parent` would make it its own ancestor (the parent is itself
/// or one of its descendants). `parent_of` answers for the current tree. A cycle already in the data
/// also answers `true`, so nothing is moved into it.
pub fn would_cycle(
    moving: Uuid,
    new_parent: Option<Uuid>,
    parent_of: impl Fn(Uuid) -> Option<Uuid>,
) -> bool {
    let mut seen = HashSet::new();
    let mut current = new_parent;
    while let Some(id) = current {
        if id == moving || !seen.insert(id) {
            return true;
        }
        current = parent_of(id);
    }
    false
}

/// `root` and every category below it, root first, parents before their children.
pub fn subtree_ids(root: Uuid, rows: &[CategoryRow]) -> Vec<Uuid> {
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        if let Some(p) = row.parent_id {
            children.entry(p).or_default().push(row.id);
        }
    }
    let mut out = vec![root];
    let mut seen: HashSet<Uuid> = HashSet::from([root]);
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            for &k in kids {
                if seen.insert(k) {
                    out.push(k);
                }
            }
        }
        i += 1;
    }
    out
}

/// `id` and its ancestors, the root first (for `category_ids` of an indexed article, reversed order
/// does not matter there). Empty when `id` is unknown.
pub fn ancestor_ids(id: Uuid, rows: &[CategoryRow]) -> Vec<Uuid> {
    let by_id: HashMap<Uuid, &CategoryRow> = rows.iter().map(|r| (r.id, r)).collect();
    let mut chain = Vec::new();
    let mut current = Some(id);
    while let Some(c) = current {
        let Some(row) = by_id.get(&c) else { break };
        if chain.contains(&c) {
            break;
        }
        chain.push(c);
        current = row.parent_id;
    }
    chain.reverse();
    chain
}

/// The names from the root down to `id` (`["瓶装液化气", "订购与配送"]`). Empty when `id` is unknown.
pub fn path_names(id: Uuid, rows: &[CategoryRow]) -> Vec<String> {
    let by_id: HashMap<Uuid, &CategoryRow> = rows.iter().map(|r| (r.id, r)).collect();
    ancestor_ids(id, rows)
        .into_iter()
        .filter_map(|a| by_id.get(&a).map(|r| r.name.clone()))
        .collect()
}

/// The category at a path of names from the root, if every step exists (import matches paths).
pub fn find_by_path(path: &[String], rows: &[CategoryRow]) -> Option<Uuid> {
    let mut parent = None;
    for name in path {
        parent = Some(
            rows.iter()
                .find(|r| r.parent_id == parent && r.name == *name)?
                .id,
        );
    }
    parent
}

/// Checks a new or changed name under `parent_id`: a valid [`CategoryName`] not used by another
/// sibling (`except` is the category being renamed or moved). The error is on field `name`.
pub fn check_sibling_name(
    name: &str,
    parent_id: Option<Uuid>,
    except: Option<Uuid>,
    rows: &[CategoryRow],
) -> Result<CategoryName, FieldError> {
    let name = CategoryName::parse(name).map_err(|e| FieldError::new("name", e.reason))?;
    let taken = rows
        .iter()
        .any(|r| r.parent_id == parent_id && Some(r.id) != except && r.name == name.as_str());
    if taken {
        return Err(FieldError::new(
            "name",
            format!("同一上级分类下已有名为「{name}」的分类"),
        ));
    }
    Ok(name)
}

/// New positions after a drag and drop: `siblings` are the ids under the target parent in their
/// current order (with or without `moved`; without it when it comes from another parent), `moved`
/// lands at `new_index` (clamped to the end). Returns every sibling with its position, 0, 1, 2, …
pub fn reorder(siblings: &[Uuid], moved: Uuid, new_index: usize) -> Vec<(Uuid, i32)> {
    let mut order: Vec<Uuid> = siblings.iter().copied().filter(|&s| s != moved).collect();
    let at = new_index.min(order.len());
    order.insert(at, moved);
    order
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, i32::try_from(i).unwrap_or(i32::MAX)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn row(n: u128, parent: Option<u128>, name: &str, position: i32) -> CategoryRow {
        CategoryRow {
            id: id(n),
            parent_id: parent.map(id),
            name: name.into(),
            position,
        }
    }

    /// 1 安全用气 ─┬ 2 报警器 ── 4 安装
    ///            └ 3 泄漏处置
    /// 5 瓶装液化气 ── 6 订购与配送
    fn rows() -> Vec<CategoryRow> {
        vec![
            row(6, Some(5), "订购与配送", 0),
            row(3, Some(1), "泄漏处置", 1),
            row(1, None, "安全用气", 0),
            row(4, Some(2), "安装", 0),
            row(2, Some(1), "报警器", 0),
            row(5, None, "瓶装液化气", 1),
        ]
    }

    fn parent_of(rows: &[CategoryRow]) -> impl Fn(Uuid) -> Option<Uuid> + '_ {
        move |c| rows.iter().find(|r| r.id == c).and_then(|r| r.parent_id)
    }

    fn outline(nodes: &[CategoryNode], depth: usize, out: &mut String) {
        for n in nodes {
            out.push_str(&format!("{}{}\n", "  ".repeat(depth), n.name));
            outline(&n.children, depth + 1, out);
        }
    }

    #[test]
    fn tree_orders_siblings_by_position() {
        let mut text = String::new();
        outline(&build_tree(&rows()), 0, &mut text);
        assert_eq!(
            text,
            "安全用气\n  报警器\n    安装\n  泄漏处置\n瓶装液化气\n  订购与配送\n"
        );
    }

    #[test]
    fn tree_survives_orphans_and_cycles() {
        let mut r = rows();
        r.push(row(7, Some(99), "孤儿", 5));
        r.push(row(8, Some(9), "环甲", 0));
        r.push(row(9, Some(8), "环乙", 0));
        let tree = build_tree(&r);
        let names: Vec<&str> = tree.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["安全用气", "瓶装液化气", "孤儿"]);
    }

    #[test]
    fn moving_under_itself_or_a_descendant_is_a_cycle() {
        let r = rows();
        assert!(would_cycle(id(1), Some(id(1)), parent_of(&r)));
        assert!(would_cycle(id(1), Some(id(4)), parent_of(&r)));
        assert!(would_cycle(id(2), Some(id(4)), parent_of(&r)));
        assert!(!would_cycle(id(4), Some(id(3)), parent_of(&r)));
        assert!(!would_cycle(id(2), Some(id(5)), parent_of(&r)));
        assert!(!would_cycle(id(2), None, parent_of(&r)));
        // A loop already in the data does not hang and refuses the move.
        let looped = |c: Uuid| Some(if c == id(8) { id(9) } else { id(8) });
        assert!(would_cycle(id(1), Some(id(8)), looped));
    }

    #[test]
    fn subtree_paths_and_ancestors() {
        let r = rows();
        assert_eq!(subtree_ids(id(1), &r), [id(1), id(3), id(2), id(4)]);
        assert_eq!(subtree_ids(id(4), &r), [id(4)]);
        assert_eq!(path_names(id(4), &r), ["安全用气", "报警器", "安装"]);
        assert_eq!(ancestor_ids(id(6), &r), [id(5), id(6)]);
        assert!(path_names(id(42), &r).is_empty());
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            find_by_path(&path(&["安全用气", "报警器"]), &r),
            Some(id(2))
        );
        assert_eq!(find_by_path(&path(&["报警器"]), &r), None);
    }

    #[test]
    fn sibling_names_are_unique() {
        let r = rows();
        let err = check_sibling_name(" 报警器 ", Some(id(1)), None, &r).unwrap_err();
        assert_eq!(err.field, "name");
        assert!(err.reason.contains("报警器"));
        // Renaming a category to its own name, or the same name under another parent, is fine.
        assert!(check_sibling_name("报警器", Some(id(1)), Some(id(2)), &r).is_ok());
        assert!(check_sibling_name("报警器", Some(id(5)), None, &r).is_ok());
        assert_eq!(
            check_sibling_name("", None, None, &r).unwrap_err().field,
            "name"
        );
    }

    #[test]
    fn reorder_after_drag_and_drop() {
        let (a, b, c, d) = (id(1), id(2), id(3), id(4));
        assert_eq!(
            reorder(&[a, b, c, d], d, 0),
            [(d, 0), (a, 1), (b, 2), (c, 3)]
        );
        assert_eq!(
            reorder(&[a, b, c, d], a, 2),
            [(b, 0), (c, 1), (a, 2), (d, 3)]
        );
        // From another parent, past the end.
        assert_eq!(reorder(&[a, b], c, 9), [(a, 0), (b, 1), (c, 2)]);
        assert_eq!(reorder(&[], c, 0), [(c, 0)]);
    }
}
