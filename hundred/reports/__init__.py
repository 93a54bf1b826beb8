"""Reports a marketer opens: the timeline page of a plan (timeline/) and the preview folder of
every rendered touch (preview/)."""
