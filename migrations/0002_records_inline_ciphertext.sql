-- A sealed payload is random bytes: Postgres's attempt to compress it before
-- moving it out of line (the default for values past about 2 KB) always
-- fails and only costs CPU, and moving it out of line costs a TOAST row and
-- TOAST index entry per 2 KB. Payloads are stored as they are (EXTERNAL:
-- never compressed) and kept in the row up to the largest size a page holds,
-- so a typical order (a few KB) is one heap row. Rows already written are
-- left as they are; the settings apply to every row written from now on.
ALTER TABLE records ALTER COLUMN ciphertext SET STORAGE EXTERNAL;
ALTER TABLE records SET (toast_tuple_target = 8160);
