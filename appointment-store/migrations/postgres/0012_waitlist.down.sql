-- Back to no waiting lists: the holds offered to places stay holds (they expire as any hold).
DROP TABLE waitlist;
