"""`hundred validate`: a journey file checked whole (validate.py), its templates (templates.py) and
Joey Coleman's warnings on its plan for a typical deal (lint/)."""
