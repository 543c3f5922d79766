"""Full-text search over tickets (SQLite FTS5).

One FTS row per ticket (rowid = tickets.local_id) holds its references, title, description,
the requester, the asset and the whole worklog. The store rebuilds the rows of the tickets a
transaction touched just before that transaction commits.
"""

from __future__ import annotations

import re

# A document for the tickets selected by {where}. The references include the bare number,
# so '777' finds HD-000777. In rowid order: FTS5 writes out its pending terms whenever a
# rowid is not above the previous one, so an unordered pull of thousands costs 3-4 times more.
_DOCUMENT = """
INSERT INTO ticket_fts (rowid, refs, title, description, people, asset, worklog)
SELECT t.local_id,
       coalesce(t.number, '') || ' ' || coalesce(ltrim(substr(t.number, 4), '0'), '') || ' ' ||
         coalesce(t.provisional_ref, '') || ' ' ||
         coalesce((SELECT group_concat(a.ref, ' ') FROM ticket_aliases a
                   WHERE a.ticket_id = t.id), ''),
       t.title,
       t.description,
       coalesce(r.name, '') || ' ' || coalesce(r.email, '') || ' ' ||
         coalesce(r.department, '') || ' ' || coalesce(t.assignee, ''),
       coalesce(s.tag, '') || ' ' || coalesce(s.serial, '') || ' ' ||
         coalesce(s.hostname, '') || ' ' || coalesce(s.model, ''),
       coalesce((SELECT group_concat(w.text, ' ') FROM worklog w
                 WHERE w.ticket_id = t.id), '')
FROM tickets t
LEFT JOIN requesters r ON r.id = t.requester_id
LEFT JOIN assets s ON s.id = t.asset_id
{where}
ORDER BY t.local_id
"""

# Rebuilds the rows of the tickets listed in the connection's temp.touched_tickets.
REINDEX_TOUCHED = (
    "DELETE FROM ticket_fts WHERE rowid IN (SELECT t.local_id FROM tickets t"
    " JOIN temp.touched_tickets x ON x.id = t.id)",
    _DOCUMENT.format(where="WHERE t.id IN (SELECT id FROM temp.touched_tickets)"),
    "DELETE FROM temp.touched_tickets",
)

# Column weights for bm25: a hit in the reference or title says more than one in the worklog.
RANK = "bm25(ticket_fts, 10.0, 6.0, 1.5, 3.0, 5.0, 0.75)"

# How many of the newest matching tickets are ranked. A word as common as "password" matches
# tens of thousands of tickets, and scoring them all costs 50+ ms per keystroke; the newest
# thousand hold what a technician looks for, and smaller result sets are ranked whole.
RANK_WINDOW = 1000

# Parameters: the FTS query (?1) and how many hits to return (?2).
RANKED_HITS = f"""
SELECT rowid, {RANK} AS rank, snippet(ticket_fts, -1, '[', ']', '…', 12) AS snippet
FROM ticket_fts
WHERE ticket_fts MATCH ?1
  AND rowid >= coalesce((SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?1
                         ORDER BY rowid DESC LIMIT 1 OFFSET {RANK_WINDOW - 1}), 0)
ORDER BY rank
LIMIT ?2
"""

MIN_PREFIX = 2
_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn what a technician typed into a safe FTS5 query, or None if nothing is searchable.

    Each whitespace-separated word becomes a quoted phrase of its letters and digits with a
    prefix star (unless it ends in a single letter), so 'ws-acct-01' finds WS-ACCT-014, and
    FTS syntax ('"', '*', '(', NEAR, AND) is only ever searched for, never interpreted. All
    words must match.
    """
    phrases = []
    for word in text.split():
        tokens = _TOKEN.findall(word)
        if tokens:
            # A one-letter prefix matches most of the index; it is searched as a whole word.
            star = "*" if len(tokens[-1]) >= MIN_PREFIX else ""
            phrases.append('"' + " ".join(tokens) + '"' + star)
    return " ".join(phrases) if phrases else None
