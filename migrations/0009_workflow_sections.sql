-- 0009: handbook sections of a workflow in their own column.
-- DOMAIN.md gives each workflow's handbook path bare and names its
-- sections separately (associating_purchases: ownership-verification and
-- add-subscription-management-contact). 0002 appended one '#anchor' to
-- some paths instead. Here handbook_path becomes the bare path and the
-- anchors move to sections (anchors without '#', most relevant first; the
-- API links handbook_url to the first one). Rows edited since 0002 are
-- handled the same way: any '#anchor' still on a path moves to sections.
ALTER TABLE workflows ADD COLUMN sections text[] NOT NULL DEFAULT '{}'
    CHECK (array_position(sections, NULL) IS NULL);

UPDATE workflows
   SET sections = ARRAY[split_part(handbook_path, '#', 2)],
       handbook_path = split_part(handbook_path, '#', 1),
       version = version + 1,
       updated_at = now()
 WHERE handbook_path LIKE '%#_%';

UPDATE workflows
   SET sections = sections || ARRAY['add-subscription-management-contact'],
       version = version + 1,
       updated_at = now()
 WHERE id = 'associating_purchases'
   AND handbook_path = '/handbook/support/license-and-renewals/workflows/customersdot/associating_purchases'
   AND NOT ('add-subscription-management-contact' = ANY (sections));
