"""Pure statistics on assessment data: no database, web or clock, standard library only."""
