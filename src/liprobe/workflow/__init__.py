"""Running a study: from a folder of files to a manifest, results and a report."""
