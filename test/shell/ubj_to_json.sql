-- UBJSON as XGBoost 1.7 writes it, decoded to JSON text, for corrupt_models.sh
-- (which corrupts real models as jsonb).  NaN becomes -7777777.0, since jsonb
-- has no NaN; the test writes it back as NaN, as XGBoost writes it.
CREATE FUNCTION ubj_int(b bytea, pos int, width int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE v numeric := 0;
BEGIN
  FOR i IN 0 .. width - 1 LOOP v := v * 256 + get_byte(b, pos + i); END LOOP;
  IF v >= 2::numeric ^ (8 * width - 1) THEN v := v - 2::numeric ^ (8 * width); END IF;
  RETURN v;
END $$;
CREATE FUNCTION ubj_float(bits bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE e int; m bigint; v float8; t text;
BEGIN
  IF bits < 0 THEN bits := bits + 4294967296; END IF;
  e := (bits >> 23) & 255; m := bits & 8388607;
  IF e = 255 THEN RETURN CASE WHEN m <> 0 THEN '-7777777.0' WHEN bits >> 31 = 1 THEN '-1e999' ELSE '1e999' END; END IF;
  v := CASE WHEN e = 0 THEN m * 2::float8 ^ -149 ELSE (1 + m / 8388608.0::float8) * 2::float8 ^ (e - 127) END;
  IF bits >> 31 = 1 THEN v := -v; END IF;
  t := v::float4::text;
  RETURN CASE WHEN t ~ '[.e]' THEN t ELSE t || '.0' END;
END $$;
-- returns the value at pos as JSON and the position after it
CREATE FUNCTION ubj_value(b bytea, pos int, marker int DEFAULT NULL, OUT json text, OUT next int)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE c int; n bigint; t int; parts text[] := '{}'; k text; r record; cnt bigint;
BEGIN
  IF marker IS NULL THEN c := get_byte(b, pos); pos := pos + 1; ELSE c := marker; END IF;
  CASE chr(c)
  WHEN 'i' THEN json := ubj_int(b, pos, 1); next := pos + 1;
  WHEN 'U' THEN json := get_byte(b, pos); next := pos + 1;
  WHEN 'I' THEN json := ubj_int(b, pos, 2); next := pos + 2;
  WHEN 'l' THEN json := ubj_int(b, pos, 4); next := pos + 4;
  WHEN 'L' THEN json := ubj_int(b, pos, 8); next := pos + 8;
  WHEN 'd' THEN json := ubj_float(ubj_int(b, pos, 4)); next := pos + 4;
  WHEN 'T' THEN json := 'true'; next := pos;
  WHEN 'F' THEN json := 'false'; next := pos;
  WHEN 'Z' THEN json := 'null'; next := pos;
  WHEN 'S' THEN
    r := ubj_value(b, pos); n := r.json::bigint; pos := r.next;
    json := to_json(convert_from(substring(b from pos + 1 for n::int), 'UTF8'))::text; next := pos + n;
  WHEN '[' THEN
    t := NULL; cnt := NULL;
    IF get_byte(b, pos) = ascii('$') THEN t := get_byte(b, pos + 1); pos := pos + 2; END IF;
    IF get_byte(b, pos) = ascii('#') THEN r := ubj_value(b, pos + 1); cnt := r.json::bigint; pos := r.next; END IF;
    LOOP
      EXIT WHEN cnt IS NOT NULL AND cardinality(parts) = cnt;
      IF cnt IS NULL AND get_byte(b, pos) = ascii(']') THEN pos := pos + 1; EXIT; END IF;
      r := ubj_value(b, pos, t); parts := parts || r.json; pos := r.next;
    END LOOP;
    json := '[' || array_to_string(parts, ',') || ']'; next := pos;
  WHEN '{' THEN
    LOOP
      IF get_byte(b, pos) = ascii('}') THEN pos := pos + 1; EXIT; END IF;
      r := ubj_value(b, pos); n := r.json::bigint; pos := r.next;
      k := to_json(convert_from(substring(b from pos + 1 for n::int), 'UTF8'))::text; pos := pos + n;
      r := ubj_value(b, pos); parts := parts || (k || ':' || r.json); pos := r.next;
    END LOOP;
    json := '{' || array_to_string(parts, ',') || '}'; next := pos;
  ELSE RAISE EXCEPTION 'UBJSON marker % at %', c, pos - 1;
  END CASE;
END $$;
