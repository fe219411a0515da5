"""The org's own provider keys (SendGrid, Resend): stored encrypted, tested, one in use."""
