"""Certificates: numbering and issuance (``issuance``), documents (PDF, signature, ZIP), public
verification, revocation and correction, reporting. Views call these only."""
