-- The language a user chose for the web portal (`zh-CN`, `en`); NULL: none
-- chosen (the portal follows the browser).
ALTER TABLE users ADD COLUMN language TEXT;
