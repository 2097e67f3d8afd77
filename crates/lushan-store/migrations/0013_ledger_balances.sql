-- Each ledger account's balance, kept with its postings: the sum of an
-- account's postings, which a submission's funding check and every wallet
-- read would otherwise add up over the account's whole history.
CREATE TABLE ledger_balances (
    account TEXT PRIMARY KEY,
    amount BIGINT NOT NULL
);
INSERT INTO ledger_balances (account, amount)
    SELECT account, CAST(SUM(amount) AS BIGINT) FROM ledger_postings GROUP BY account;
