"""The values offline recording gives inputs that Pulumi knows only after apply; the API checks skip them."""

UNKNOWN = "(known after apply)"  # masked inputs: a value Pulumi only knows after apply
COMPUTED = "<computed>"  # revealed inputs: a wire-only value (asset, unknown output) with no plain form
