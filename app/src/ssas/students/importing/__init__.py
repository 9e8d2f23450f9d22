"""Import a school's data from CSV or spreadsheet exports: schools, academic years, subjects,
students and scores, upserted by their stable keys in one transaction.

- `columns`: what each kind of file holds, the header names accepted for each column and how
  a cell is read.
- `reading`: a file's bytes to header-mapped rows with their spreadsheet row numbers.
- `upsert`: rows to the database (created / updated / unchanged), every bad row reported as
  `FILE:ROW: column: message`.
"""
