"""HTML report of a fitted model (:mod:`.page`), R's four diagnostic plots
(:mod:`.diagnostics`) and the self-contained page they share with the lesson (:mod:`.html`)."""
