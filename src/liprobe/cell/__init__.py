"""Bulk chemistry and cells: ICP-AES conversion (:mod:`~liprobe.cell.icp`) and cycling
capacity, specific capacity and retention (:mod:`~liprobe.cell.cycling`)."""
