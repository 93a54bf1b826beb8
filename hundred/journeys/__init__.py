"""The journey language: the model (model.py, its touches in touches.py, its value types in
fields.py), the YAML it is read from with every position kept
(source.py), schema errors a marketer can act on (schema_errors.py), finding a journey by id
(catalog.py), per-touch rules (touch_rules.py, webhook_urls.py) and the problem type (problems.py).
Validation that needs templates or plans sits above, in `hundred.validation`."""
