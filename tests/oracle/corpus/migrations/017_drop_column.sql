-- DROP COLUMN [IF EXISTS], with and without the COLUMN keyword.
ALTER TABLE core.customers DROP COLUMN referral_code;
ALTER TABLE core.customers DROP COLUMN IF EXISTS never_existed;
ALTER TABLE core.texts DROP b, DROP COLUMN IF EXISTS c;
ALTER TABLE core.misc DROP COLUMN k CASCADE;
