-- What voice search matches: name, language, language name and tags as plain
-- words, so searching for JSON punctuation no longer matches the tags column.
ALTER TABLE voices ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
