-- 0017: compensation amounts stored exactly, with their currency's scale
-- (API.md "Money is never a binary float"; src/domain/money.c).
--
-- numeric(14, 2) gave every amount two decimals: "500" JPY read back as
-- 500.00 and "1.250" KWD could not be stored at all. A numeric without a
-- fixed scale keeps the scale it is given, and the server now writes the
-- canonical text, with exactly the currency's ISO 4217 minor digits, so
-- compensation_amount::text is that text again.
--
-- Existing rows take their currency's scale where that loses nothing
-- (500.00 JPY -> 500, 1.25 KWD -> 1.250). A row whose amount has digits
-- its currency does not (12.50 JPY, accepted before) or whose code is not
-- an active one keeps its value as it is: no amount is ever changed.
-- The minor digits below are the exceptions to 2 in ISO 4217 List One,
-- as src/domain/money.c has them when this was written.
--
-- The bound matches the server's: at most 18 digits in all and 4
-- decimals (CLF, UYW), so an amount in minor units fits a bigint.
ALTER TABLE complaints ALTER COLUMN compensation_amount TYPE numeric;

UPDATE complaints c
SET compensation_amount = round(c.compensation_amount, s.scale)
FROM (SELECT id, CASE
          WHEN compensation_currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW',
                                         'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF',
                                         'XPF') THEN 0
          WHEN compensation_currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
          WHEN compensation_currency IN ('CLF', 'UYW') THEN 4
          ELSE 2
      END AS scale
      FROM complaints
      WHERE compensation_amount IS NOT NULL) s
WHERE c.id = s.id
  AND c.compensation_amount = round(c.compensation_amount, s.scale)
  AND scale(c.compensation_amount) <> s.scale;

ALTER TABLE complaints
    ADD CONSTRAINT complaints_compensation_amount_exact
    CHECK (scale(compensation_amount) <= 4 AND compensation_amount < 1e18);
