-- Everything learnloop installs, one normalized line each, for test/shell/upgrade.sh:
-- the members, columns, indexes, constraints, triggers, function definitions,
-- comments and function privileges.
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE e.extname = 'learnloop' AND d.deptype = 'e')
SELECT line FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, 0) AS line FROM members
    UNION ALL
    SELECT format('column %s.%s %s collate %s default %s null %s', table_name, column_name, data_type, collation_name,
                  column_default, is_nullable)
      FROM information_schema.columns WHERE table_schema = 'ml'
    UNION ALL
    SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'ml'
    UNION ALL
    SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE connamespace = 'ml'::regnamespace
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'ml'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s acl %s', p.oid::regprocedure, p.proacl) || E'\n' || pg_get_functiondef(p.oid)
      FROM pg_proc p WHERE p.pronamespace = 'ml'::regnamespace AND p.prokind = 'f'
    UNION ALL
    SELECT format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
      FROM pg_description d JOIN members m ON m.classid = d.classoid AND m.objid = d.objoid
) snapshot
ORDER BY line;
