pub mod oscal;
