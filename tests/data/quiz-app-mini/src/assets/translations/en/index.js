import x17 from "./lesson-17.json";
import x18 from "./lesson-18.json";
const quiz = { 0 : x17[0], 1 : x18[0] };
export default quiz;
