"""`hundred validate`: a journey file checked whole (validate.py, its cross-journey rules in
journey_rules.py), its templates (templates.py, template_scan.py, sample_deal.py) and Joey Coleman's
warnings on its plan for a typical deal (lint/)."""
