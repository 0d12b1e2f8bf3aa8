"""`eks-netpol-audit report`: the organization's auditor findings, read from the Security
Hub CSPM administrator's aggregation region. `aggregate` decides (pure), `render` prints
(pure), `read` calls Security Hub (the thin shell)."""
