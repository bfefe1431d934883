"""Reading directory files of the national standard, any version since 2022, into `places`: one module per
step (sources, standard_versions and mapping, values, positions, report and messages), importer.py deciding
place by place."""
