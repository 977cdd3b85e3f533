DROP TABLE mail_cursor;
DROP TABLE mail_messages;
