"""Request and response bodies of the HTTP API, one module per resource, each imported from
where it is defined so that a path loads only the models it reads or answers with: `common`
(field types every resource shares), `campaigns`, `registry` (consents, suppressions, sender
profiles), `replies`, `privacy` and `audit`."""
