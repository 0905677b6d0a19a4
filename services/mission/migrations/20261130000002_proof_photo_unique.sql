-- An uploaded photo backs at most one proof (SubmitProof answers
-- ALREADY_EXISTS/UPLOAD_ALREADY_USED): deleting a proof deletes its object, so
-- a key shared by two proofs would take the other's photo with it. Deleted
-- proofs keep their key, so a key is never used twice. NULLs (non-photo
-- proofs) do not collide.
ALTER TABLE proof ADD UNIQUE KEY uk_proof_photo (photo_key);
